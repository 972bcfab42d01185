with

message_topics as (

    select * from {{ ref('stg_topics__message_topics') }}

),

conversations as (

    select * from {{ ref('fct_conversations') }}

),

-- one row per topic and conversation: a conversation counts once per topic
topic_conversations as (

    select
        topic_id,
        conversation_id,
        count(*) as messages

    from message_topics
    group by 1, 2

),

daily as (

    select
        topic_conversations.topic_id,
        conversations.conversation_date,
        sum(topic_conversations.messages) as messages,
        count(*) as conversations,
        count(case when conversations.is_engaged then 1 end) as engaged_conversations,
        count(case when conversations.is_resolved then 1 end) as resolved_conversations,
        count(case when conversations.outcome = 'escalated' then 1 end) as escalated_conversations,
        count(case when conversations.has_fallback then 1 end) as fallback_conversations

    from topic_conversations
    inner join conversations
        on topic_conversations.conversation_id = conversations.conversation_id
    group by 1, 2

),

final as (

    select
        -- grain
        cast(topic_id as integer) as topic_id,
        conversation_date,

        -- numerics
        cast(messages as bigint) as messages,
        cast(conversations as bigint) as conversations,
        cast(engaged_conversations as bigint) as engaged_conversations,
        cast(resolved_conversations as bigint) as resolved_conversations,
        cast(escalated_conversations as bigint) as escalated_conversations,
        cast(fallback_conversations as bigint) as fallback_conversations,
        cast({{ safe_ratio('resolved_conversations', 'engaged_conversations') }} as double)
            as resolution_rate,
        cast({{ safe_ratio('escalated_conversations', 'engaged_conversations') }} as double)
            as escalation_rate,
        cast({{ safe_ratio('fallback_conversations', 'conversations') }} as double)
            as fallback_conversation_rate

    from daily

)

select * from final
