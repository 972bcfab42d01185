-- depends_on: {{ ref('int_conversations_changed') }}
-- (read only by changed_conversations_only() on incremental runs)

with

conversations as (

    select * from {{ ref('int_conversations_aggregated') }}
    {{ changed_conversations_only() }}

),

recontacts as (

    select
        *,
        coalesce(ended_at, last_message_at, started_at) as activity_ended_at,
        lead(started_at) over (
            partition by user_id
            order by started_at, conversation_id
        ) as next_started_at_of_same_user_id

    from conversations

),

next_conversations as (

    select
        *,
        -- anonymous conversations share a null user_id but are not one user
        case
            when user_id is not null then next_started_at_of_same_user_id
        end as next_conversation_started_at

    from recontacts

),

signals as (

    select
        *,
        user_message_count >= 1 and assistant_message_count >= 1 as is_engaged,
        handoff_requested_event_count > 0 or human_agent_message_count > 0 as is_escalated,
        fallback_event_count > 0 as has_fallback,
        resolution_denied_event_count > 0 as has_resolution_denied,
        resolution_confirmed_event_count > 0 as has_resolution_confirmed_event,
        thumbs_down_count > 0
        or coalesce(csat_score <= {{ var('negative_csat_max', 2) }}, false)
            as has_negative_feedback,
        user_id is not null as has_user,
        coalesce(
            next_conversation_started_at
            <= {{ add_hours('activity_ended_at', var('recontact_window_hours')) }},
            false
        ) as is_recontacted

    from next_conversations

),

confirmed as (

    select
        *,
        not is_escalated
        and (has_resolution_confirmed_event or has_last_assistant_thumbs_up)
            as is_resolution_confirmed

    from signals

),

implied as (

    select
        *,
        is_engaged
        and not is_escalated
        and not is_resolution_confirmed
        and coalesce(last_message_role = 'assistant', false)
        and not has_fallback
        and not has_negative_feedback
        and not has_resolution_denied
        and not is_recontacted as is_resolution_implied

    from confirmed

),

classified as (

    select
        *,
        case
            when not is_engaged then 'unengaged'
            when is_escalated then 'escalated'
            when is_resolution_confirmed then 'resolved_confirmed'
            when is_resolution_implied then 'resolved_implied'
            else 'abandoned'
        end as outcome,
        is_engaged
        and not is_escalated
        and not is_resolution_confirmed
        and not is_resolution_implied as is_abandoned

    from implied

),

ratios as (

    select
        *,
        {{ safe_ratio('fallback_event_count', 'assistant_message_count') }} as fallback_ratio,
        {{ safe_ratio('repeated_question_count', 'user_message_count') }} as repetition_ratio,
        {{ safe_ratio('thumbs_up_count', 'thumbs_up_count + thumbs_down_count') }}
            as thumbs_up_ratio,
        {{ safe_ratio('answered_turn_count - slow_response_count', 'turn_count') }}
            as answered_in_time_ratio

    from classified

),

components as (

    select
        *,
        case
            when not is_engaged then null
            when outcome = 'resolved_confirmed' then 1.0
            when outcome = 'resolved_implied' then 0.5
            else 0.0
        end as resolution_component,
        case
            when is_engaged then 1.0 - least(fallback_ratio, 1.0)
        end as fallback_free_component,
        case
            when not is_engaged then null
            when csat_score is not null then (csat_score - 1) / 4.0
            when thumbs_up_ratio is not null then thumbs_up_ratio
            else 0.5
        end as feedback_component,
        case
            when is_engaged then 1.0 - least(repetition_ratio, 1.0)
        end as no_repetition_component,
        case
            when is_engaged then answered_in_time_ratio
        end as responsiveness_component

    from ratios

),

final as (

    select
        *,
        {{ quality_score() }} as quality_score

        -- lineage: _processed_batch_id comes with * (the same run's watermark);
        -- naming it twice gave DuckDB a stray _processed_batch_id_1 and Spark an error

    from components

)

select * from final
