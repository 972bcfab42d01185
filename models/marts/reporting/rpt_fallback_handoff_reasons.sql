{#- Per day × bot × kind (fallback | handoff_requested) × reason: the assistant messages
    carrying such an event and their conversations. -#}
with

messages as (

    select * from {{ ref('fct_messages') }}
    {{ changed_days_only(ref('fct_messages')) }}

),

reasons as (

    select
        conversation_date,
        bot_id,
        'fallback' as reason_kind,
        coalesce(fallback_reason, 'unknown') as reason,
        message_id,
        conversation_id

    from messages
    where has_fallback

    union all

    select
        conversation_date,
        bot_id,
        'handoff_requested' as reason_kind,
        coalesce(handoff_reason, 'unknown') as reason,
        message_id,
        conversation_id

    from messages
    where has_handoff_requested

),

reason_stats as (

    select
        conversation_date,
        bot_id,
        reason_kind,
        reason,
        count(*) as messages,
        count(distinct conversation_id) as conversations

    from reasons
    group by 1, 2, 3, 4

),

final as (

    select
        -- grain
        conversation_date,
        bot_id,
        reason_kind,
        reason,

        -- numerics
        cast(messages as bigint) as messages,
        cast(conversations as bigint) as conversations,

        -- lineage
        {{ processed_batch_of(ref('fct_messages')) }} as _processed_batch_id

    from reason_stats

)

select * from final
