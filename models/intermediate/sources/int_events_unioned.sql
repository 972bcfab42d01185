{{ config(materialized='view') }}

{#- contract v1 events plus those mapped from each enabled source (var sources) -#}

with unioned as (

    {{ union_entity('events') }}

)

select * from unioned
