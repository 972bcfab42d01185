with

messages as (

    select * from {{ ref('int_messages_flagged') }}
    {{ changed_conversations_only(content_only=true) }}

),

retrieval as (

    select * from {{ ref('int_messages_retrieval_scored') }}
    {{ changed_conversations_only(content_only=true) }}

),

final as (

    select
        -- ids
        messages.message_id,
        messages.conversation_id,
        session_id,
        user_id,
        bot_id,

        -- strings (message text stays out of the public mart: it may hold PII)
        channel,
        bot_version,
        message_role,
        intent_name,
        model_name,
        sentiment_label,
        fallback_reason,
        handoff_reason,

        -- numerics
        message_sequence,
        session_number,
        intent_confidence,
        sentiment_score,
        input_tokens,
        output_tokens,
        latency_ms,
        cast({{ array_length('retrieved_document_ids') }} as integer) as retrieved_document_count,
        input_usd_per_1k_tokens,
        output_usd_per_1k_tokens,
        cast(cost_usd as double) as cost_usd,
        cast(thumbs_value as integer) as thumbs_value,
        fallback_event_count,
        error_event_count,
        tool_call_count,
        failed_tool_call_count,
        retrieval.first_cited_rank,
        retrieval.retrieval_reciprocal_rank,
        retrieval.retrieval_top_score,

        -- booleans
        is_session_start,
        is_billable,
        is_priced,
        is_cost_missing,
        has_fallback,
        has_handoff_requested,
        has_thumbs_up,
        has_thumbs_down,
        is_repeated_question,
        is_last_assistant_message,
        is_last_message,
        retrieval.is_retrieval_hit,

        -- dates
        {{ utc_date('conversation_started_at') }} as conversation_date,

        -- timestamps (UTC)
        sent_at,
        price_valid_from_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from messages
    left join retrieval
        on messages.message_id = retrieval.message_id

)

select * from final
