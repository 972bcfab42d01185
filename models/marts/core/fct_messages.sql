with

messages as (

    select * from {{ ref('int_messages_flagged') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

retrieval as (

    select * from {{ ref('int_messages_retrieval_scored') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

final as (

    select
        -- ids
        messages.message_id,
        messages.conversation_id,
        messages.session_id,
        messages.user_id,
        messages.bot_id,

        -- strings (message text stays out of the public mart: it may hold PII)
        messages.channel,
        messages.bot_version,
        messages.message_role,
        messages.intent_name,
        messages.model_name,
        messages.sentiment_label,
        messages.fallback_reason,
        messages.handoff_reason,

        -- numerics
        messages.message_sequence,
        messages.session_number,
        messages.intent_confidence,
        messages.sentiment_score,
        messages.input_tokens,
        messages.output_tokens,
        messages.latency_ms,
        cast({{ array_length('messages.retrieved_document_ids') }} as integer)
            as retrieved_document_count,
        messages.input_usd_per_1k_tokens,
        messages.output_usd_per_1k_tokens,
        cast(messages.cost_usd as double) as cost_usd,
        cast(messages.thumbs_value as integer) as thumbs_value,
        messages.fallback_event_count,
        messages.error_event_count,
        messages.tool_call_count,
        messages.failed_tool_call_count,
        retrieval.first_cited_rank,
        retrieval.retrieval_reciprocal_rank,
        retrieval.retrieval_top_score,

        -- booleans
        messages.is_session_start,
        messages.is_billable,
        messages.is_priced,
        messages.is_cost_missing,
        messages.has_fallback,
        messages.has_handoff_requested,
        messages.has_thumbs_up,
        messages.has_thumbs_down,
        messages.is_repeated_question,
        messages.is_last_assistant_message,
        messages.is_last_message,
        retrieval.is_retrieval_hit,

        -- dates
        {{ utc_date('messages.conversation_started_at') }} as conversation_date,

        -- timestamps (UTC)
        messages.sent_at,
        messages.price_valid_from_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from messages
    left join retrieval
        on messages.message_id = retrieval.message_id

)

select * from final
