with

events as (

    select * from {{ ref('int_events_parsed') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

tool_call_events as (

    select
        *,
        coalesce(tool_name, 'unknown') as tool_name_or_unknown,
        coalesce(not is_tool_success, false) as is_failed

    from events
    where event_type = 'tool_call'

),

final as (

    select
        -- ids
        event_id as tool_call_id,
        conversation_id,
        message_id,
        user_id,
        bot_id,

        -- strings
        channel,
        bot_version,
        tool_name_or_unknown as tool_name,
        error_code,

        -- numerics
        tool_duration_ms,

        -- booleans
        is_tool_success,
        is_failed,

        -- dates
        conversation_date,

        -- timestamps (UTC)
        occurred_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from tool_call_events

)

select * from final
