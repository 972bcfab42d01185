with

conversations as (

    select * from {{ ref('int_conversations_unioned') }}
    {{ changed_conversations_only(
        content_only=true, staged_input=ref('int_conversations_unioned')
    ) }}

),

messages as (

    select * from {{ ref('int_messages_flagged') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

turns as (

    select * from {{ ref('int_turns_paired') }}
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

message_stats as (

    select
        conversation_id,
        count(*) as message_count,
        count(case when message_role = 'user' then message_id end) as user_message_count,
        count(case when message_role = 'assistant' then message_id end)
            as assistant_message_count,
        count(case when message_role = 'human_agent' then message_id end)
            as human_agent_message_count,
        count(case when message_role = 'system' then message_id end) as system_message_count,
        max(session_number) as session_count,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cost_usd) as cost_usd,
        count(case when is_cost_missing then message_id end) as unpriced_message_count,
        count(case when has_thumbs_up then message_id end) as thumbs_up_count,
        count(case when has_thumbs_down then message_id end) as thumbs_down_count,
        count(case when is_repeated_question then message_id end) as repeated_question_count,
        max(case when is_last_message then message_role end) as last_message_role,
        coalesce(max(case when is_last_assistant_message and has_thumbs_up then 1 end), 0) = 1
            as has_last_assistant_thumbs_up,
        min(sent_at) as first_message_at,
        max(sent_at) as last_message_at

    from messages
    group by 1

),

user_intents as (

    select
        conversation_id,
        intent_name,
        count(*) as intent_message_count,
        avg(intent_confidence) as intent_confidence_avg,
        min(message_sequence) as first_sequence

    from messages
    where
        message_role = 'user'
        and intent_name is not null
    group by 1, 2

),

ranked_intents as (

    select
        *,
        -- main intent: most frequent on user messages; ties go to the earliest
        row_number() over (
            partition by conversation_id
            order by intent_message_count desc, first_sequence asc, intent_name asc
        ) as main_rank,
        row_number() over (
            partition by conversation_id
            order by first_sequence asc, intent_name asc
        ) as first_rank

    from user_intents

),

intent_stats as (

    select
        conversation_id,
        max(case when first_rank = 1 then intent_name end) as first_intent,
        max(case when main_rank = 1 then intent_name end) as main_intent,
        max(case when main_rank = 1 then intent_confidence_avg end) as main_intent_confidence

    from ranked_intents
    group by 1

),

turn_stats as (

    select
        conversation_id,
        count(*) as turn_count,
        count(case when is_answered then turn_id end) as answered_turn_count,
        count(case when is_slow_response then turn_id end) as slow_response_count,
        count(case when is_low_confidence then turn_id end) as low_confidence_turn_count,
        avg(response_latency_ms) as response_latency_avg_ms,
        max(response_latency_ms) as response_latency_max_ms

    from turns
    group by 1

),

event_stats as (

    select
        conversation_id,
        count(case when event_type = 'fallback' then event_id end) as fallback_event_count,
        count(case when event_type = 'handoff_requested' then event_id end)
            as handoff_requested_event_count,
        count(case when event_type = 'resolution_confirmed' then event_id end)
            as resolution_confirmed_event_count,
        count(case when event_type = 'resolution_denied' then event_id end)
            as resolution_denied_event_count,
        count(case when event_type = 'error' then event_id end) as error_event_count,
        count(case when event_type = 'tool_call' then event_id end) as tool_call_count,
        count(
            case when event_type = 'tool_call' and not is_tool_success then event_id end
        ) as failed_tool_call_count,
        count(case when event_type = 'retrieval' then event_id end) as retrieval_count

    from events
    group by 1

),

-- the reason of the first fallback and of the first handoff request (event payload `reason`)
reasons_ranked as (

    select
        conversation_id,
        event_type,
        event_reason,
        row_number() over (
            partition by conversation_id, event_type
            order by occurred_at, event_id
        ) as reason_rank

    from events
    where event_type in ('fallback', 'handoff_requested')

),

reason_stats as (

    select
        conversation_id,
        max(case when event_type = 'fallback' then event_reason end) as first_fallback_reason,
        max(case when event_type = 'handoff_requested' then event_reason end) as handoff_reason

    from reasons_ranked
    where reason_rank = 1
    group by 1

),

csat_ranked as (

    select
        conversation_id,
        feedback_value,
        row_number() over (
            partition by conversation_id
            order by submitted_at desc, feedback_id desc
        ) as csat_rank

    from feedback
    where
        feedback_kind = 'csat'
        and feedback_value is not null

),

feedback_stats as (

    select
        conversation_id,
        max(case when csat_rank = 1 then feedback_value end) as csat_score

    from csat_ranked
    group by 1

),

comment_stats as (

    select
        conversation_id,
        count(*) as comment_count

    from feedback
    where feedback_kind = 'comment'
    group by 1

),

final as (

    select
        -- ids
        conversations.conversation_id,
        conversations.user_id,
        conversations.bot_id,

        -- strings
        conversations.channel,
        conversations.locale,
        conversations.bot_version,
        conversations.end_reason,
        conversations.experiment_variant,
        reason_stats.first_fallback_reason,
        reason_stats.handoff_reason,
        intent_stats.first_intent,
        intent_stats.main_intent,
        message_stats.last_message_role,

        -- numerics
        cast(coalesce(message_stats.session_count, 0) as integer) as session_count,
        cast(coalesce(message_stats.message_count, 0) as integer) as message_count,
        cast(coalesce(message_stats.user_message_count, 0) as integer) as user_message_count,
        cast(coalesce(message_stats.assistant_message_count, 0) as integer)
            as assistant_message_count,
        cast(coalesce(message_stats.human_agent_message_count, 0) as integer)
            as human_agent_message_count,
        cast(coalesce(message_stats.system_message_count, 0) as integer)
            as system_message_count,
        cast(coalesce(turn_stats.turn_count, 0) as integer) as turn_count,
        cast(coalesce(turn_stats.answered_turn_count, 0) as integer) as answered_turn_count,
        cast(coalesce(turn_stats.slow_response_count, 0) as integer) as slow_response_count,
        cast(coalesce(turn_stats.low_confidence_turn_count, 0) as integer)
            as low_confidence_turn_count,
        cast(coalesce(message_stats.repeated_question_count, 0) as integer)
            as repeated_question_count,
        cast(coalesce(event_stats.fallback_event_count, 0) as integer) as fallback_event_count,
        cast(coalesce(event_stats.handoff_requested_event_count, 0) as integer)
            as handoff_requested_event_count,
        cast(coalesce(event_stats.resolution_confirmed_event_count, 0) as integer)
            as resolution_confirmed_event_count,
        cast(coalesce(event_stats.resolution_denied_event_count, 0) as integer)
            as resolution_denied_event_count,
        cast(coalesce(event_stats.error_event_count, 0) as integer) as error_event_count,
        cast(coalesce(event_stats.tool_call_count, 0) as integer) as tool_call_count,
        cast(coalesce(event_stats.failed_tool_call_count, 0) as integer)
            as failed_tool_call_count,
        cast(coalesce(event_stats.retrieval_count, 0) as integer) as retrieval_count,
        cast(coalesce(message_stats.thumbs_up_count, 0) as integer) as thumbs_up_count,
        cast(coalesce(message_stats.thumbs_down_count, 0) as integer) as thumbs_down_count,
        cast(coalesce(comment_stats.comment_count, 0) as integer) as comment_count,
        cast(feedback_stats.csat_score as integer) as csat_score,
        intent_stats.main_intent_confidence,
        turn_stats.response_latency_avg_ms,
        turn_stats.response_latency_max_ms,
        cast(coalesce(message_stats.input_tokens, 0) as bigint) as input_tokens,
        cast(coalesce(message_stats.output_tokens, 0) as bigint) as output_tokens,
        cast(message_stats.cost_usd as double) as cost_usd,
        cast(coalesce(message_stats.unpriced_message_count, 0) as integer)
            as unpriced_message_count,

        -- booleans
        coalesce(message_stats.has_last_assistant_thumbs_up, false)
            as has_last_assistant_thumbs_up,

        -- dates
        {{ utc_date('conversations.started_at') }} as conversation_date,

        -- timestamps (UTC)
        conversations.started_at,
        conversations.ended_at,
        message_stats.first_message_at,
        message_stats.last_message_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from conversations
    left join message_stats
        on conversations.conversation_id = message_stats.conversation_id
    left join intent_stats
        on conversations.conversation_id = intent_stats.conversation_id
    left join turn_stats
        on conversations.conversation_id = turn_stats.conversation_id
    left join event_stats
        on conversations.conversation_id = event_stats.conversation_id
    left join feedback_stats
        on conversations.conversation_id = feedback_stats.conversation_id
    left join comment_stats
        on conversations.conversation_id = comment_stats.conversation_id
    left join reason_stats
        on conversations.conversation_id = reason_stats.conversation_id

)

select * from final
