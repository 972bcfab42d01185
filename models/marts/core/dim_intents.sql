with

intent_catalogue as (

    select * from {{ ref('intent_catalogue') }}

),

messages as (

    select * from {{ ref('int_messages_sessionized') }}

),

observed_intents as (

    select distinct intent_name
    from messages
    where intent_name is not null

),

catalogued as (

    select
        intent,
        category,
        description,
        requires_human,
        true as is_catalogued

    from intent_catalogue

),

-- intents the NLU reported that the catalogue lacks, so facts always find their intent
uncatalogued as (

    select
        observed_intents.intent_name as intent,
        'uncatalogued' as category,
        'Intent reported by the NLU but missing from the intent catalogue' as description,
        false as requires_human,
        false as is_catalogued

    from observed_intents
    left join intent_catalogue
        on observed_intents.intent_name = intent_catalogue.intent
    where intent_catalogue.intent is null

),

-- the member for conversations without any intent
unknown_member as (

    select
        'unknown' as intent,
        'unknown' as category,
        'No intent detected (no user message with an intent)' as description,
        false as requires_human,
        false as is_catalogued

),

unioned as (

    select * from catalogued
    union all
    select * from uncatalogued
    union all
    select * from unknown_member

),

final as (

    select
        cast(intent as {{ dbt.type_string() }}) as intent,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(description as {{ dbt.type_string() }}) as description,
        cast(requires_human as boolean) as requires_human,
        is_catalogued

    from unioned

)

select * from final
