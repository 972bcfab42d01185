with

conversations as (

    select * from {{ ref('int_conversations_classified') }}
    {{ changed_conversations_only() }}

),

final as (

    select
        -- ids
        conversation_id,
        user_id,
        bot_id,

        -- strings
        channel,
        locale,
        bot_version,
        end_reason,
        experiment_variant,
        first_fallback_reason,
        handoff_reason,
        first_intent,
        main_intent,
        outcome,
        last_message_role,

        -- numerics
        {{ seconds_between('started_at', 'coalesce(ended_at, last_message_at)') }}
            as duration_seconds,
        session_count,
        message_count,
        user_message_count,
        assistant_message_count,
        human_agent_message_count,
        system_message_count,
        turn_count,
        answered_turn_count,
        repeated_question_count,
        low_confidence_turn_count,
        slow_response_count,
        fallback_event_count,
        handoff_requested_event_count,
        resolution_confirmed_event_count,
        resolution_denied_event_count,
        error_event_count,
        tool_call_count,
        failed_tool_call_count,
        retrieval_count,
        cast(main_intent_confidence as double) as main_intent_confidence,
        cast(response_latency_avg_ms as double) as response_latency_avg_ms,
        cast(response_latency_max_ms as bigint) as response_latency_max_ms,
        csat_score,
        thumbs_up_count,
        thumbs_down_count,
        comment_count,
        input_tokens,
        output_tokens,
        input_tokens + output_tokens as total_tokens,
        cost_usd,
        unpriced_message_count,
        cast(quality_score as double) as quality_score,
        cast(resolution_component as double) as resolution_component,
        cast(fallback_free_component as double) as fallback_free_component,
        cast(feedback_component as double) as feedback_component,
        cast(no_repetition_component as double) as no_repetition_component,
        cast(responsiveness_component as double) as responsiveness_component,

        -- booleans
        is_engaged,
        is_escalated,
        is_resolution_confirmed,
        is_resolution_implied,
        outcome in ('resolved_confirmed', 'resolved_implied') as is_resolved,
        is_abandoned,
        has_fallback,
        has_negative_feedback,
        has_resolution_confirmed_event,
        has_resolution_denied,
        has_last_assistant_thumbs_up,
        has_user,
        is_recontacted,
        coalesce(
            main_intent_confidence < {{ var('low_confidence_threshold', 0.5) }}, false
        ) as is_main_intent_low_confidence,

        -- dates
        conversation_date,

        -- timestamps (UTC)
        started_at,
        ended_at,
        first_message_at,
        last_message_at,
        next_conversation_started_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from conversations

),

-- a conversation recomputed only for its user's recontact keeps its stored row when
-- nothing in it changed (macros/incremental/changed_conversations.sql)
written as (

    {{ unchanged_rows_left_out('final') }}

)

select * from written
