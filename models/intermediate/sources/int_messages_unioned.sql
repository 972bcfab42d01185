{{ config(materialized='view') }}

{#- contract v1 messages plus those mapped from each enabled source (var sources) -#}

with unioned as (

    {{ union_entity('messages', extra_columns={'source_cost_usd': 'double'}) }}

)

select * from unioned
