with

conversations as (

    select * from {{ ref('fct_conversations') }}
    {{ changed_days_only(ref('fct_conversations')) }}

),

intents as (

    select * from {{ ref('dim_intents') }}

),

intent_counts as (

    select
        conversation_date,
        coalesce(main_intent, 'unknown') as intent,
        count(*) as conversations,
        count(case when is_engaged then conversation_id end) as engaged_conversations,
        count(case when is_resolved then conversation_id end) as resolved_conversations,
        count(case when outcome = 'escalated' then conversation_id end)
            as escalated_conversations,
        count(main_intent_confidence) as conversations_with_confidence,
        count(case when is_main_intent_low_confidence then conversation_id end)
            as low_confidence_conversations,
        avg(main_intent_confidence) as mean_confidence

    from conversations
    group by 1, 2

),

day_totals as (

    select
        conversation_date,
        sum(conversations) as day_conversations

    from intent_counts
    group by 1

),

final as (

    select
        -- grain
        intent_counts.conversation_date,
        intent_counts.intent,

        -- strings
        intents.category as intent_category,

        -- numerics
        cast(intent_counts.conversations as bigint) as conversations,
        cast(intent_counts.engaged_conversations as bigint) as engaged_conversations,
        cast(intent_counts.resolved_conversations as bigint) as resolved_conversations,
        cast(intent_counts.escalated_conversations as bigint) as escalated_conversations,
        cast(intent_counts.low_confidence_conversations as bigint)
            as low_confidence_conversations,
        cast({{ safe_ratio(
            'intent_counts.conversations',
            'day_totals.day_conversations'
        ) }} as double) as intent_share,
        cast({{ safe_ratio(
            'intent_counts.resolved_conversations',
            'intent_counts.engaged_conversations'
        ) }} as double) as resolution_rate,
        cast({{ safe_ratio(
            'intent_counts.escalated_conversations',
            'intent_counts.engaged_conversations'
        ) }} as double) as escalation_rate,
        cast(intent_counts.mean_confidence as double) as mean_confidence,
        cast({{ safe_ratio(
            'intent_counts.low_confidence_conversations',
            'intent_counts.conversations_with_confidence'
        ) }} as double) as low_confidence_share,

        -- booleans
        intents.requires_human,

        -- lineage
        {{ processed_batch_of(ref('fct_conversations')) }} as _processed_batch_id

    from intent_counts
    inner join day_totals
        on intent_counts.conversation_date = day_totals.conversation_date
    left join intents
        on intent_counts.intent = intents.intent

)

select * from final
