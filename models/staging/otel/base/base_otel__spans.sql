{{ config(unique_key=['_file_path', '_line_number', '_span_index']) }}

{#- One row per span of every loaded OTLP line (resourceSpans[].scopeSpans[].spans[]), with its
    resource attributes and scope, attributes as one JSON object, typed GenAI fields, and
    `_quarantine_reason` null or the first span-level rule broken (docs/sources/otel-genai.md). -#}
{%- set json_attributes = {
    'gen_ai.input.messages': 'input_messages',
    'gen_ai.output.messages': 'output_messages',
    'gen_ai.retrieval.documents': 'retrieval_documents',
} %}
{#- the fields read of each span and scope, in json_parse_object's shape language -#}
{%- set span_shape = {
    'traceId': 'text', 'spanId': 'text', 'parentSpanId': 'text', 'name': 'text',
    'kind': 'text', 'startTimeUnixNano': 'text', 'endTimeUnixNano': 'text',
    'status': {'code': 'text', 'message': 'text'}, 'attributes': 'json', 'events': 'json',
} %}
{%- set scope_shape = {'name': 'text', 'version': 'text'} %}
{%- set integer_attributes = ['gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens'] %}

with raw_lines as (

    select * from {{ source('otel', 'otel_traces') }}
    {{ new_batches_only() }}

),

loaded_lines as (

    select
        _file_path,
        _line_number
    from {{ ref('base_otel__traces') }}
    where _quarantine_reason is null
        {{ new_batches_only('and') }}

),

lines as (

    -- a semi-join on the loaded lines' keys: the small side is the one held in memory
    select * from raw_lines
    where (_file_path, _line_number) in (select _file_path, _line_number from loaded_lines)

),

line_spans as (

    -- every span of a line beside its resource and scope, its position the span's index in the
    -- line: a select-list unnest streams line by line (list_with_positions says why not lateral)
    select
        _file_path,
        _export_date,
        _line_number,
        _batch_id,
        {{ otel_rotation_timestamp('_file_path') }} as exported_at,
        unnest({{ list_with_positions(otel_line_spans('_line')) }}) as line_span
    from lines

),

spans as (

    select
        _file_path,
        _export_date,
        _line_number,
        _batch_id,
        exported_at,
        line_span.value.resource as resource,
        line_span.value.scope as scope,
        line_span.value.span as span,
        cast(line_span.position - 1 as integer) as _span_index
    from line_spans

),

span_fields as (

    -- each span, scope and resource parsed once into the fields read below (each JSON function
    -- call parses its text again and holds the parse of every row of its vector)
    select
        *,
        -- json_transform alone, not json_parse_object: these texts are JSON already (a span that
        -- is not an object gives null fields), and its validity checks would parse twice more
        json_transform(span, '{{ tojson(duckdb_json_shape(span_shape)) }}') as _span,
        json_transform(scope, '{{ tojson(duckdb_json_shape(scope_shape)) }}') as _scope,
        resource -> 'attributes' as _resource_attributes
    from spans

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
        nullif(_span.traceId, '') as _raw__trace_id,
        nullif(_span.spanId, '') as _raw__span_id,
        lower(nullif(_span.traceId, '')) as trace_id,
        lower(nullif(_span.spanId, '')) as span_id,
        lower(nullif(_span.parentSpanId, '')) as parent_span_id,
        _span.name as span_name,
        {{ try_cast("_span.kind", 'integer') }} as span_kind,
        _span.startTimeUnixNano as _raw__start_time,
        _span.endTimeUnixNano as _raw__end_time,
        {{ otel_unix_nano("_span.startTimeUnixNano") }} as started_at,
        {{ otel_unix_nano("_span.endTimeUnixNano") }} as ended_at,
        case
            when _span.status.code in ('2', 'STATUS_CODE_ERROR') then 2
            when _span.status.code in ('1', 'STATUS_CODE_OK') then 1
            else 0
        end as status_code,
        nullif(_span.status.message, '') as status_message,
        _scope.name as scope_name,
        _scope.version as scope_version,
        {{ otel_attributes('_resource_attributes', depth=1) }} as resource_attributes,
        {{ otel_attributes('_span.attributes') }} as attributes,
        coalesce({{ otel_json_list('_span.events') }}, []) as _events
    from span_fields

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
