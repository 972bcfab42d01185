{%- set payload_shape = {
    'tool': 'text',
    'success': 'text',
    'duration_ms': 'text',
    'error_code': 'text',
    'reason': 'text',
    'document_ids': 'text_array',
    'scores': 'text_array',
} -%}

with

events as (

    select * from {{ ref('int_events_unioned') }}
    {{ changed_conversations_only(content_only=true, staged_input=ref('int_events_unioned')) }}

),

conversations as (

    select * from {{ ref('int_conversations_unioned') }}
    {{ changed_conversations_only(
        content_only=true, staged_input=ref('int_conversations_unioned')
    ) }}

),

parsed as (

    select
        events.event_id,
        events.conversation_id,
        events.message_id,
        conversations.user_id,
        conversations.bot_id,
        conversations.channel,
        conversations.bot_version,
        events.event_type,
        events.occurred_at,
        conversations.started_at as conversation_started_at,
        {{ json_parse_object('events.payload', payload_shape) }} as payload_struct

    from events
    inner join conversations
        on events.conversation_id = conversations.conversation_id

),

final as (

    select
        -- ids
        parsed.event_id,
        parsed.conversation_id,
        parsed.message_id,
        parsed.user_id,
        parsed.bot_id,

        -- strings
        parsed.channel,
        parsed.bot_version,
        parsed.event_type,
        case
            when parsed.event_type = 'tool_call'
                then {{ struct_field('parsed.payload_struct', 'tool') }}
        end as tool_name,
        {{ struct_field('parsed.payload_struct', 'error_code') }} as error_code,
        case
            when parsed.event_type in ('fallback', 'handoff_requested')
                then {{ struct_field('parsed.payload_struct', 'reason') }}
        end as event_reason,

        -- arrays
        case
            when parsed.event_type = 'retrieval'
                then {{ struct_field('parsed.payload_struct', 'document_ids') }}
        end as retrieved_document_ids,

        -- numerics
        {{ try_cast(struct_field('parsed.payload_struct', 'duration_ms'), 'bigint') }}
            as tool_duration_ms,
        {{ array_length(struct_field('parsed.payload_struct', 'document_ids')) }}
            as retrieved_document_count,
        -- the retriever's score of its rank-1 document (payload `scores`, in rank order)
        case
            when parsed.event_type = 'retrieval'
                then {{ try_cast(
                    array_element(struct_field('parsed.payload_struct', 'scores'), 1), 'double'
                ) }}
        end as retrieval_top_score,

        -- booleans
        case
            when parsed.event_type = 'tool_call'
                then {{ try_cast(struct_field('parsed.payload_struct', 'success'), 'boolean') }}
        end as is_tool_success,

        -- dates
        {{ utc_date('parsed.conversation_started_at') }} as conversation_date,

        -- timestamps (UTC)
        parsed.occurred_at,
        parsed.conversation_started_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from parsed

)

select * from final
