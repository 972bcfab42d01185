with

messages as (

    select * from {{ ref('int_messages_unioned') }}
    {{ changed_conversations_only(content_only=true, staged_input=ref('int_messages_unioned')) }}

),

conversations as (

    select * from {{ ref('int_conversations_unioned') }}
    {{ changed_conversations_only(
        content_only=true, staged_input=ref('int_conversations_unioned')
    ) }}

),

-- messages of known conversations only: orphans stay visible in the staging
-- relationship tests and would have no channel, bot or day.
conversation_messages as (

    select
        messages.message_id,
        messages.conversation_id,
        conversations.user_id,
        conversations.bot_id,
        conversations.channel,
        conversations.bot_version,
        messages.message_role,
        messages.message_text,
        messages.intent_name,
        messages.model_name,
        messages.retrieved_document_ids,
        messages.sentiment_label,
        messages.intent_confidence,
        messages.sentiment_score,
        messages.input_tokens,
        messages.output_tokens,
        messages.latency_ms,
        messages.source_cost_usd,
        messages.sent_at,
        conversations.started_at as conversation_started_at,
        cast(row_number() over (
            partition by messages.conversation_id
            order by messages.sent_at, messages.message_id
        ) as integer) as message_sequence

    from messages
    inner join conversations
        on messages.conversation_id = conversations.conversation_id

),

gaps as (

    select
        *,
        lag(sent_at) over (
            partition by conversation_id
            order by message_sequence
        ) as previous_sent_at

    from conversation_messages

),

session_starts as (

    select
        *,
        {{ seconds_between('previous_sent_at', 'sent_at') }} as seconds_since_previous_message,
        -- a gap of exactly the timeout keeps the session; one second more starts a new one
        coalesce(
            {{ seconds_between('previous_sent_at', 'sent_at') }}
            > {{ var('session_timeout_minutes') }} * 60,
            true
        ) as is_session_start

    from gaps

),

sessions_numbered as (

    select
        *,
        cast(sum(case when is_session_start then 1 else 0 end) over (
            partition by conversation_id
            order by message_sequence
            rows between unbounded preceding and current row
        ) as integer) as session_number

    from session_starts

),

sessions_identified as (

    select
        *,
        conversation_id || '-' || cast(session_number as {{ dbt.type_string() }}) as session_id

    from sessions_numbered

),

final as (

    select
        -- ids
        message_id,
        conversation_id,
        session_id,
        user_id,
        bot_id,

        -- strings
        channel,
        bot_version,
        message_role,
        message_text,
        intent_name,
        model_name,
        retrieved_document_ids,
        sentiment_label,

        -- numerics
        message_sequence,
        session_number,
        intent_confidence,
        sentiment_score,
        input_tokens,
        output_tokens,
        latency_ms,
        source_cost_usd,
        seconds_since_previous_message,

        -- booleans
        is_session_start,

        -- timestamps (UTC)
        sent_at,
        previous_sent_at,
        conversation_started_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from sessions_identified

)

select * from final
