-- depends_on: {{ ref('int_conversations_changed') }}
-- (read only by changed_conversations_only(content_only=true) on incremental runs)

with

messages as (

    select * from {{ ref('int_messages_priced') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

events as (

    select * from {{ ref('int_events_parsed') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

feedback as (

    select * from {{ ref('int_feedback_unioned') }}
    {{ changed_conversations_only(content_only=true, staged_input=ref('int_feedback_unioned')) }}

),

events_per_message as (

    select
        message_id,
        count(case when event_type = 'fallback' then event_id end) as fallback_event_count,
        count(case when event_type = 'error' then event_id end) as error_event_count,
        count(case when event_type = 'tool_call' then event_id end) as tool_call_count,
        count(
            case when event_type = 'tool_call' and not is_tool_success then event_id end
        ) as failed_tool_call_count,
        count(case when event_type = 'handoff_requested' then event_id end)
            as handoff_requested_event_count,
        -- a message carries at most one fallback and one handoff request in the contract;
        -- min() picks one deterministically if a producer sends more
        min(case when event_type = 'fallback' then event_reason end) as fallback_reason,
        min(case when event_type = 'handoff_requested' then event_reason end) as handoff_reason

    from events
    where message_id is not null
    group by 1

),

-- the latest thumbs rating of each message counts (a user may change their mind)
thumbs_ranked as (

    select
        message_id,
        feedback_value,
        row_number() over (
            partition by message_id
            order by submitted_at desc, feedback_id desc
        ) as rating_rank

    from feedback
    where
        feedback_kind = 'thumbs'
        and message_id is not null

),

latest_thumbs as (

    select
        message_id,
        feedback_value as thumbs_value

    from thumbs_ranked
    where rating_rank = 1

),

positions as (

    select
        message_id,
        lag({{ normalize_text('message_text') }}) over (
            partition by conversation_id
            order by message_sequence
        ) as previous_user_text_normalized,
        {{ normalize_text('message_text') }} as user_text_normalized

    from messages
    where message_role = 'user'

),

last_messages as (

    select
        conversation_id,
        max(case when message_role = 'assistant' then message_sequence end)
            as last_assistant_sequence,
        max(case when message_role != 'system' then message_sequence end)
            as last_non_system_sequence

    from messages
    group by 1

),

final as (

    select
        -- lineage (_processed_batch_id, the same run's watermark) comes with messages.*;
        -- naming it again gave DuckDB a stray _processed_batch_id_1 and Spark an error
        messages.*,
        latest_thumbs.thumbs_value,
        cast(coalesce(events_per_message.fallback_event_count, 0) as integer)
            as fallback_event_count,
        cast(coalesce(events_per_message.error_event_count, 0) as integer)
            as error_event_count,
        cast(coalesce(events_per_message.tool_call_count, 0) as integer) as tool_call_count,
        cast(coalesce(events_per_message.failed_tool_call_count, 0) as integer)
            as failed_tool_call_count,
        events_per_message.fallback_reason,
        events_per_message.handoff_reason,
        coalesce(events_per_message.fallback_event_count, 0) > 0 as has_fallback,
        coalesce(events_per_message.handoff_requested_event_count, 0) > 0
            as has_handoff_requested,
        coalesce(latest_thumbs.thumbs_value = 1, false) as has_thumbs_up,
        coalesce(latest_thumbs.thumbs_value = -1, false) as has_thumbs_down,
        coalesce(
            positions.user_text_normalized = positions.previous_user_text_normalized,
            false
        ) as is_repeated_question,
        coalesce(messages.message_sequence = last_messages.last_assistant_sequence, false)
            as is_last_assistant_message,
        coalesce(messages.message_sequence = last_messages.last_non_system_sequence, false)
            as is_last_message

    from messages
    left join events_per_message
        on messages.message_id = events_per_message.message_id
    left join latest_thumbs
        on messages.message_id = latest_thumbs.message_id
    left join positions
        on messages.message_id = positions.message_id
    left join last_messages
        on messages.conversation_id = last_messages.conversation_id

)

select * from final
