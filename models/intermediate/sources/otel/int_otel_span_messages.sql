{#-
    Every chat message carried by a GenAI span, one row each (docs/sources/otel-genai.md,
    "messages"): from the attributes gen_ai.input.messages / gen_ai.output.messages when the span
    has either, else from its v1.36 span events (gen_ai.system/user/assistant/tool.message in
    order = the input, gen_ai.choice = the output). A span with both: the attributes win.
    Incremental by trace (macros/incremental/changed_traces.sql).
-#}
{{ config(materialized='incremental', unique_key='trace_id') }}
{%- set staged = [ref('stg_otel__spans')] %}

with spans as (

    select * from {{ ref('stg_otel__spans') }}
    where is_genai
        {{ changed_traces_only(staged, keyword='and') }}

),

events as (

    select * from {{ ref('stg_otel__span_events') }}
    where event_name in (
        'gen_ai.system.message', 'gen_ai.user.message', 'gen_ai.assistant.message',
        'gen_ai.tool.message', 'gen_ai.choice'
    )
        {{ changed_traces_only(staged, keyword='and') }}

),

attribute_message_lists as (

    -- select-list unnests stream span by span (list_with_positions)
    select
        trace_id,
        span_id,
        'input' as direction,
        unnest({{ list_with_positions("coalesce(" ~ otel_json_list('input_messages') ~ ", [])") }}) as message
    from spans

    union all

    select
        trace_id,
        span_id,
        'output' as direction,
        unnest({{ list_with_positions("coalesce(" ~ otel_json_list('output_messages') ~ ", [])") }}) as message
    from spans

),

attribute_messages as (

    select
        trace_id,
        span_id,
        direction,
        message.position - 1 as message_index,
        message.value as message
    from attribute_message_lists

),

attribute_read as (

    select
        trace_id,
        span_id,
        direction,
        cast(message_index as integer) as message_index,
        lower(coalesce(message ->> 'role', case when direction = 'output' then 'assistant' end)) as message_role,
        coalesce(
            {{ otel_parts_text("message -> 'parts'") }},
            {{ otel_content_text("message -> 'content'") }}
        ) as message_text,
        {{ otel_parts_tool_call_ids("message -> 'parts'") }} as tool_call_ids,
        message ->> 'finish_reason' as finish_reason,
        -- an output message with no parts (or parts: []) has no content
        direction = 'output'
        and coalesce(json_array_length(message, '$.parts'), 0) = 0
        and json_type(message, '$.content') is null as is_without_content,
        'attributes' as message_source
    from attribute_messages

),

event_spans as (

    -- spans whose messages are not in attributes: read their events
    select trace_id, span_id
    from spans
    where input_messages is null and output_messages is null

),

event_messages as (

    select
        events.*,
        case when events.event_name = 'gen_ai.choice' then 'output' else 'input' end as direction,
        -- gen_ai.choice `message`: an object, or JSON in a string
        case
            when json_type(events.attributes, '$.message') = 'OBJECT' then events.attributes -> '$.message'
            when json_valid(events.attributes ->> '$.message')
                and json_type(json(events.attributes ->> '$.message')) = 'OBJECT'
                then json(events.attributes ->> '$.message')
        end as choice_message
    from events
    inner join event_spans
        on
            events.trace_id = event_spans.trace_id
            and events.span_id = event_spans.span_id

),

event_read as (

    select
        trace_id,
        span_id,
        direction,
        cast(case
            when direction = 'output'
                then coalesce(
                    {{ try_cast("attributes ->> '$.index'", 'integer') }},
                    row_number() over (partition by trace_id, span_id, direction order by event_index) - 1
                )
            else row_number() over (partition by trace_id, span_id, direction order by event_index) - 1
        end as integer) as message_index,
        lower(case
            when direction = 'output' then coalesce(choice_message ->> 'role', 'assistant')
            else coalesce(attributes ->> '$.role', split_part(event_name, '.', 2))
        end) as message_role,
        case
            when direction = 'output' then coalesce(
                {{ otel_content_text("choice_message -> 'content'") }},
                {{ otel_content_text("attributes -> '$.content'") }},
                case when choice_message is null then nullif(attributes ->> '$.message', '') end
            )
            else {{ otel_content_text("attributes -> '$.content'") }}
        end as message_text,
        list_transform(
            coalesce(
                {{ otel_json_list("coalesce(choice_message -> 'tool_calls', attributes -> '$.tool_calls')") }},
                case
                    when json_valid(attributes ->> '$.tool_calls')
                        then {{ otel_json_list("json(attributes ->> '$.tool_calls')") }}
                end,
                []
            ),
            lambda tool_call: coalesce(tool_call ->> 'id', '')
        ) as tool_call_ids,
        attributes ->> '$.finish_reason' as finish_reason,
        case
            when direction = 'output'
                then choice_message is null and json_type(attributes, '$.message') is null
                and json_type(attributes, '$.content') is null
            else json_type(attributes, '$.content') is null
        end as is_without_content,
        'events' as message_source
    from event_messages

),

unioned as (

    select * from attribute_read
    union all
    select * from event_read

),

final as (

    select
        *,
        {{ staged_batch_id(staged) }} as _processed_batch_id
    from unioned

)

select * from final
