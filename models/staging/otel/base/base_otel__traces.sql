{{ config(unique_key=['_file_path', '_line_number']) }}

{#- One row per raw OTLP line (one exported message), judged: a line is loaded when it parses as
    a TracesData object (`{"resourceSpans": [...]}`), else quarantined as invalid_otlp_json (or the
    reader's line error). Its spans are judged one by one in base_otel__spans. -#}

with raw_lines as (

    select * from {{ source('otel', 'otel_traces') }}
    {{ new_batches_only() }}

),

records as (

    {{ source_records('raw_lines') }}

),

shaped as (

    -- the line parsed once, down to its spans (each JSON function call parses the whole line
    -- again, and holds a parsed copy of every line of the vector: at the bench's standard
    -- scale, five calls per line took DuckDB past its memory limit)
    select
        *,
        json_transform(
            _record, '{"resourceSpans": [{"scopeSpans": [{"spans": ["BOOLEAN"]}]}]}'
        ).resourceSpans as _resource_spans
    from records

),

judged as (

    select
        *,
        case
            {{ unreadable_line_reason('invalid_otlp_json', 'invalid_otlp_json') }}
            when _resource_spans is null then 'invalid_otlp_json'
        end as _quarantine_reason
    from shaped

),

final as (

    select
        -- lineage
        _file_path,
        _export_date,
        _line_number,
        _batch_id,

        -- numerics: what the line holds (the span-level reconciliation counts against these)
        cast(len(_resource_spans) as integer) as resource_span_count,
        cast(coalesce(list_sum(list_transform(
            _resource_spans,
            lambda resource_span: list_sum(list_transform(resource_span.scopeSpans, lambda scope_span: len(scope_span.spans)))
        )), 0) as integer) as span_count,

        -- timestamps (UTC): the file's rotation time is its export time
        {{ otel_rotation_timestamp('_file_path') }} as exported_at,

        -- verdict
        _quarantine_reason,
        case when _quarantine_reason is not null then left(_line, 1024) end as _rejected_line

    from judged

)

select * from final
