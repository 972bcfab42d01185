{{ config(materialized='view') }}

{#- contract v1 users plus those mapped from each enabled source (var sources) -#}

with unioned as (

    {{ union_entity('users') }}

)

select * from unioned
