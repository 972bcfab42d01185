{#-
    OTel spans as contract v1 events (docs/sources/otel-genai.md, "events"): execute_tool spans
    are tool_call events, failed inference or agent spans (status ERROR or error.type) error
    events, retrieval spans retrieval events. The other v1 event types (fallback, handoff_*,
    resolution_*, conversation_closed) have no OTel equivalent.
    Incremental by conversation, as int_messages_mapped_from_* (macros/incremental/changed_traces.sql).
-#}
{%- set resolved = ref('int_otel_spans_resolved') %}
{{
    config(
        materialized='incremental',
        pre_hook="{{ delete_changed_trace_conversations(ref('int_otel_spans_resolved')) }}",
    )
}}

with spans as (

    select * from {{ resolved }}
    {{ changed_trace_conversations_only(resolved) }}

),

messages as (

    select * from {{ ref('int_otel_span_messages') }}
    {%- if is_incremental() %}
    where trace_id in (select spans.trace_id from spans)
    {%- endif %}

),

requested_tool_calls as (

    select
        trace_id,
        span_id,
        unnest(tool_call_ids) as tool_call_id
    from messages

),

tool_call_answers as (

    -- the turn answering a tool call: the turn of the span whose output asked for it
    select
        requested_tool_calls.trace_id,
        requested_tool_calls.tool_call_id,
        any_value(callers.turn_message_id) as turn_message_id
    from requested_tool_calls
    inner join spans as callers
        on
            requested_tool_calls.trace_id = callers.trace_id
            and requested_tool_calls.span_id = callers.span_id
    where requested_tool_calls.tool_call_id != '' and callers.turn_message_id is not null
    group by 1, 2

),

tool_calls as (

    select
        spans.span_id as event_id,
        spans.conversation_id,
        coalesce(tool_call_answers.turn_message_id, spans.turn_message_id) as message_id,
        'tool_call' as event_type,
        spans.started_at as occurred_at,
        json_object(
            'tool', spans.tool_name,
            'success', spans.status_code != 2 and spans.error_type is null,
            'duration_ms', {{ milliseconds_between('spans.started_at', 'spans.ended_at') }},
            'error_code', coalesce(spans.error_type, case when spans.status_code = 2 then spans.status_message end)
        ) as payload,
        spans.exported_at,
        spans._export_date,
        spans._file_path,
        spans._line_number,
        spans._batch_id
    from spans
    left join tool_call_answers
        on
            spans.trace_id = tool_call_answers.trace_id
            and spans.tool_call_id = tool_call_answers.tool_call_id
    where spans.operation_name = 'execute_tool'

),

retrievals as (

    select
        span_id as event_id,
        conversation_id,
        turn_message_id as message_id,
        'retrieval' as event_type,
        started_at as occurred_at,
        json_object(
            'document_ids', list_transform(
                coalesce({{ otel_json_list('retrieval_documents') }}, []), lambda document: document ->> 'id'
            ),
            'scores', list_transform(
                coalesce({{ otel_json_list('retrieval_documents') }}, []),
                lambda document: {{ try_cast("document ->> 'score'", 'double') }}
            )
        ) as payload,
        exported_at,
        _export_date,
        _file_path,
        _line_number,
        _batch_id
    from spans
    where operation_name = 'retrieval'

),

errors as (

    select
        span_id || ':error' as event_id,
        conversation_id,
        turn_message_id as message_id,
        'error' as event_type,
        started_at as occurred_at,
        json_object('error_code', coalesce(error_type, status_message)) as payload,
        exported_at,
        _export_date,
        _file_path,
        _line_number,
        _batch_id
    from spans
    where (is_inference or is_agent) and (status_code = 2 or error_type is not null)

),

unioned as (

    select * from tool_calls
    union all
    select * from retrievals
    union all
    select * from errors

),

final as (

    select
        *,
        (select max(_processed_batch_id) from {{ resolved }}) as _processed_batch_id
    from unioned

)

select * from final
