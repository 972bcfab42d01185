with

messages as (

    select * from {{ ref('int_messages_flagged') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

next_assistant as (

    select
        *,
        -- first assistant message after this one in the conversation
        min(case when message_role = 'assistant' then message_sequence end) over (
            partition by conversation_id
            order by message_sequence
            rows between 1 following and unbounded following
        ) as reply_sequence

    from messages

),

user_messages as (

    select * from next_assistant
    where message_role = 'user'

),

assistant_messages as (

    select * from messages
    where message_role = 'assistant'

),

paired as (

    select
        -- ids
        user_messages.message_id as turn_id,
        user_messages.conversation_id,
        user_messages.session_id,
        user_messages.message_id as user_message_id,
        assistant_messages.message_id as reply_message_id,
        user_messages.user_id,
        user_messages.bot_id,

        -- strings
        user_messages.channel,
        user_messages.bot_version,
        user_messages.intent_name,
        assistant_messages.model_name as reply_model_name,

        -- numerics
        user_messages.message_sequence as user_message_sequence,
        user_messages.session_number,
        user_messages.intent_confidence,
        {{ milliseconds_between('user_messages.sent_at', 'assistant_messages.sent_at') }}
            as response_latency_ms,
        assistant_messages.latency_ms as reported_latency_ms,
        assistant_messages.input_tokens as reply_input_tokens,
        assistant_messages.output_tokens as reply_output_tokens,
        assistant_messages.cost_usd as reply_cost_usd,

        -- booleans
        assistant_messages.message_id is not null as is_answered,
        coalesce(
            user_messages.intent_confidence < {{ var('low_confidence_threshold', 0.5) }},
            false
        ) as is_low_confidence,
        user_messages.is_repeated_question,
        coalesce(assistant_messages.has_fallback, false) as is_reply_fallback,
        coalesce(assistant_messages.has_thumbs_up, false) as is_reply_thumbs_up,
        coalesce(assistant_messages.has_thumbs_down, false) as is_reply_thumbs_down,

        -- dates
        {{ utc_date('user_messages.conversation_started_at') }} as conversation_date,

        -- timestamps (UTC)
        user_messages.sent_at as user_sent_at,
        assistant_messages.sent_at as reply_sent_at,
        user_messages.conversation_started_at

    from user_messages
    left join assistant_messages
        on
            user_messages.conversation_id = assistant_messages.conversation_id
            and user_messages.reply_sequence = assistant_messages.message_sequence

),

final as (

    select
        *,
        coalesce(
            response_latency_ms > {{ var('slow_response_threshold_ms', 5000) }},
            false
        ) as is_slow_response,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from paired

)

select * from final
