{{ config(materialized='view') }}

{#-
    The user messages the NLU could not label: no intent, intent `unknown`, or a
    confidence below low_confidence_threshold. The topics step (Python, after the
    build: scripts/chatbatch/transform/topics/) groups their redacted text into topics.
-#}

with

messages as (

    select * from {{ ref('int_messages_redacted') }}

),

final as (

    select
        message_id,
        conversation_id,
        message_text_redacted,
        intent_name,
        intent_confidence,
        sent_at,
        _processed_batch_id

    from messages
    where
        message_role = 'user'
        and trim(coalesce(message_text_redacted, '')) != ''
        and (
            intent_name is null
            or intent_name = 'unknown'
            or intent_confidence < {{ var('low_confidence_threshold', 0.5) }}
        )

)

select * from final
