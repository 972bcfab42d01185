{{ config(materialized='view') }}

{#- contract v1 feedback plus those mapped from each enabled source (var sources) -#}

with unioned as (

    {{ union_entity('feedback') }}

)

select * from unioned
