{#-
    The only model that reads message text for the ML datasets and the archive: every
    message once, with PII replaced by typed placeholders (macros/privacy).
-#}

with

messages as (

    select * from {{ ref('int_messages_flagged') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

redacted as (

    select
        message_id,
        conversation_id,
        bot_id,
        channel,
        message_role,
        {{ redact_pii('message_text') }} as message_text_redacted,
        intent_name,
        message_sequence,
        session_number,
        intent_confidence,
        thumbs_value,
        sent_at,
        conversation_started_at,
        -- the latest user message before this one: an answer's context
        max(case when message_role = 'user' then message_sequence end) over (
            partition by conversation_id
            order by message_sequence
            rows between unbounded preceding and 1 preceding
        ) as context_sequence

    from messages

),

final as (

    select
        redacted.message_id,
        redacted.conversation_id,
        redacted.bot_id,
        contexts.message_id as context_message_id,
        redacted.channel,
        redacted.message_role,
        redacted.message_text_redacted,
        redacted.intent_name,
        contexts.message_text_redacted as context_text_redacted,
        contexts.intent_name as context_intent_name,
        redacted.message_sequence,
        redacted.session_number,
        redacted.intent_confidence,
        redacted.thumbs_value,
        redacted.sent_at,
        redacted.conversation_started_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from redacted
    left join redacted as contexts
        on
            redacted.conversation_id = contexts.conversation_id
            and redacted.context_sequence = contexts.message_sequence

)

select * from final
