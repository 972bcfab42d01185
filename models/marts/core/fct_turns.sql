with

turns as (

    select * from {{ ref('int_turns_paired') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

final as (

    select
        -- ids
        turn_id,
        conversation_id,
        session_id,
        user_message_id,
        reply_message_id,
        user_id,
        bot_id,

        -- strings
        channel,
        bot_version,
        intent_name,
        reply_model_name,

        -- numerics
        user_message_sequence,
        session_number,
        intent_confidence,
        response_latency_ms,
        reported_latency_ms,
        reply_input_tokens,
        reply_output_tokens,
        cast(reply_cost_usd as double) as reply_cost_usd,

        -- booleans
        is_answered,
        is_low_confidence,
        is_slow_response,
        is_repeated_question,
        is_reply_fallback,
        is_reply_thumbs_up,
        is_reply_thumbs_down,

        -- dates
        conversation_date,

        -- timestamps (UTC)
        user_sent_at,
        reply_sent_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from turns

)

select * from final
