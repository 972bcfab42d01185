{{ config(materialized='view') }}

{#- contract v1 conversations plus those mapped from each enabled source (var sources) -#}

with unioned as (

    {{ union_entity('conversations') }}

)

select * from unioned
