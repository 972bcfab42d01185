{{ config(unique_key=['_file_path', '_line_number', '_span_index']) }}

{#- One row per span of every loaded OTLP line (resourceSpans[].scopeSpans[].spans[]), with its
    resource attributes and scope, attributes as one JSON object, typed GenAI fields, and
    `_quarantine_reason` null or the first span-level rule broken (docs/sources/otel-genai.md). -#}
{%- set json_attributes = {
    'gen_ai.input.messages': 'input_messages',
    'gen_ai.output.messages': 'output_messages',
    'gen_ai.retrieval.documents': 'retrieval_documents',
} %}
{%- set integer_attributes = ['gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens'] %}

with raw_lines as (

    select * from {{ source('otel', 'otel_traces') }}
    {{ new_batches_only() }}

),

loaded_lines as (

    select * from {{ ref('base_otel__traces') }}
    where _quarantine_reason is null
        {{ new_batches_only('and') }}

),

lines as (

    select
        raw_lines._file_path,
        raw_lines._export_date,
        raw_lines._line_number,
        raw_lines._batch_id,
        loaded_lines.exported_at,
        raw_lines._line as _record  -- the text, not a json() copy of it (macros/sources/lines.sql)
    from raw_lines
    inner join loaded_lines
        on
            raw_lines._file_path = loaded_lines._file_path
            and raw_lines._line_number = loaded_lines._line_number

),

resource_spans as (

    select
        lines.* exclude (_record),
        resource_span.position as resource_position,
        resource_span.value -> 'resource' as resource,
        resource_span.value -> 'scopeSpans' as scope_spans
    from lines,
        unnest(cast(lines._record -> 'resourceSpans' as json[])) with ordinality as resource_span (value, position)

),

scope_spans as (

    select
        resource_spans.* exclude (scope_spans),
        scope_span.position as scope_position,
        scope_span.value -> 'scope' as scope,
        scope_span.value -> 'spans' as spans
    from resource_spans,
        unnest(coalesce({{ otel_json_list('resource_spans.scope_spans') }}, [])) with ordinality as scope_span (value, position)

),

spans as (

    select
        scope_spans.* exclude (spans),
        span.value as span,
        cast(row_number() over (
            partition by scope_spans._file_path, scope_spans._line_number
            order by scope_spans.resource_position, scope_spans.scope_position, span.position
        ) - 1 as integer) as _span_index
    from scope_spans,
        unnest(coalesce({{ otel_json_list('scope_spans.spans') }}, [])) with ordinality as span (value, position)

),

parsed as (

    select
        _file_path,
        _export_date,
        _line_number,
        _span_index,
        _batch_id,
        exported_at,
        span,
        nullif(span ->> 'traceId', '') as _raw__trace_id,
        nullif(span ->> 'spanId', '') as _raw__span_id,
        lower(nullif(span ->> 'traceId', '')) as trace_id,
        lower(nullif(span ->> 'spanId', '')) as span_id,
        lower(nullif(span ->> 'parentSpanId', '')) as parent_span_id,
        span ->> 'name' as span_name,
        {{ try_cast("span ->> 'kind'", 'integer') }} as span_kind,
        span ->> 'startTimeUnixNano' as _raw__start_time,
        span ->> 'endTimeUnixNano' as _raw__end_time,
        {{ otel_unix_nano("span ->> 'startTimeUnixNano'") }} as started_at,
        {{ otel_unix_nano("span ->> 'endTimeUnixNano'") }} as ended_at,
        case
            when span -> 'status' ->> 'code' in ('2', 'STATUS_CODE_ERROR') then 2
            when span -> 'status' ->> 'code' in ('1', 'STATUS_CODE_OK') then 1
            else 0
        end as status_code,
        nullif(span -> 'status' ->> 'message', '') as status_message,
        scope ->> 'name' as scope_name,
        scope ->> 'version' as scope_version,
        {{ otel_attributes("resource -> 'attributes'", depth=1) }} as resource_attributes,
        {{ otel_attributes("span -> 'attributes'") }} as attributes,
        coalesce({{ otel_json_list("span -> 'events'") }}, []) as _events
    from spans

),

typed as (

    select
        *,
        {{ otel_attr_text('attributes', 'gen_ai.operation.name') }} as operation_name,
        coalesce(
            {{ otel_attr_text('attributes', 'gen_ai.provider.name') }},
            {{ otel_attr_text('attributes', 'gen_ai.system') }}
        ) as provider_name,
        {{ otel_attr_text('attributes', 'gen_ai.operation.name') }} is not null
        or {{ otel_attr_text('attributes', 'gen_ai.system') }} is not null as is_genai,
        {{ otel_attr_text('attributes', 'gen_ai.conversation.id') }} as conversation_attribute,
        coalesce(
            {{ otel_attr_text('attributes', 'user.id') }},
            {{ otel_attr_text('resource_attributes', 'user.id') }}
        ) as user_id,
        {{ otel_attr_text('attributes', 'gen_ai.agent.name') }} as agent_name,
        {{ otel_attr_text('attributes', 'gen_ai.agent.version') }} as agent_version,
        {{ otel_attr_text('resource_attributes', 'service.name') }} as service_name,
        {{ otel_attr_text('resource_attributes', 'service.version') }} as service_version,
        {{ otel_attr_text('attributes', 'gen_ai.request.model') }} as request_model,
        {{ otel_attr_text('attributes', 'gen_ai.response.model') }} as response_model,
        {{ otel_attr_text('attributes', 'gen_ai.response.id') }} as response_id,
        {{ otel_attr('attributes', 'gen_ai.response.finish_reasons') }} as finish_reasons,
        {{ otel_attr_text('attributes', 'error.type') }} as error_type,
        {{ otel_attr_text('attributes', 'gen_ai.tool.name') }} as tool_name,
        {{ otel_attr_text('attributes', 'gen_ai.tool.call.id') }} as tool_call_id,
        {%- for key in integer_attributes %}
        {{ otel_attr_text('attributes', key) }} as _raw__{{ key.split('.')[-1] }},
        {{ try_cast(otel_attr_text('attributes', key), 'bigint') }} as {{ key.split('.')[-1] }},
        {%- endfor %}
        {%- for key, column in json_attributes.items() %}
        {{ otel_attr_json('attributes', key) }} as {{ column }},
        {%- endfor %}
        list_bool_or(list_transform(
            _events, lambda event: {{ otel_unix_nano("event ->> 'timeUnixNano'") }} is null
        )) as _has_bad_event_time
    from parsed

),

judged as (

    select
        *,
        case
            when _raw__trace_id is null then 'missing_trace_id'
            when not regexp_full_match(trace_id, '[0-9a-f]{32}') or trace_id = repeat('0', 32) then 'bad_trace_id'
            when _raw__span_id is null then 'missing_span_id'
            when not regexp_full_match(span_id, '[0-9a-f]{16}') or span_id = repeat('0', 16) then 'bad_span_id'
            when started_at is null then 'bad_timestamp:startTimeUnixNano'
            when ended_at is null or ended_at < started_at then 'bad_timestamp:endTimeUnixNano'
            when coalesce(_has_bad_event_time, false) then 'bad_timestamp:events.timeUnixNano'
            {%- for key in integer_attributes %}
            when _raw__{{ key.split('.')[-1] }} is not null and {{ key.split('.')[-1] }} is null then 'bad_type:{{ key }}'
            {%- endfor %}
            {%- for key in json_attributes %}
            when {{ otel_attr_is_invalid_json('attributes', key) }} then 'invalid_json:{{ key }}'
            {%- endfor %}
        end as _quarantine_reason
    from typed

),

final as (

    select
        -- lineage
        _file_path,
        _export_date,
        _line_number,
        _span_index,
        _batch_id,

        -- ids
        trace_id,
        span_id,
        parent_span_id,
        conversation_attribute,
        user_id,
        response_id,
        tool_call_id,

        -- strings
        span_name,
        operation_name,
        provider_name,
        agent_name,
        agent_version,
        service_name,
        service_version,
        scope_name,
        scope_version,
        request_model,
        response_model,
        error_type,
        status_message,
        tool_name,

        -- json
        resource_attributes,
        attributes,
        finish_reasons,
        input_messages,
        output_messages,
        retrieval_documents,
        to_json(_events) as events,

        -- numerics
        span_kind,
        status_code,
        input_tokens,
        output_tokens,

        -- booleans
        is_genai,

        -- timestamps (UTC)
        started_at,
        ended_at,
        exported_at,

        -- verdict: identical re-sends share the hash (stg_otel__spans counts them as duplicates)
        md5(span::varchar) as _span_hash,
        _quarantine_reason,
        case when _quarantine_reason is not null then left(span::varchar, 1024) end as _rejected_line

    from judged

)

select * from final
