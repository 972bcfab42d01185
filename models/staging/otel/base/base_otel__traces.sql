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

judged as (

    select
        *,
        case
            {{ unreadable_line_reason('invalid_otlp_json', 'invalid_otlp_json') }}
            when coalesce(json_type(_record, '$.resourceSpans'), '') != 'ARRAY' then 'invalid_otlp_json'
        end as _quarantine_reason
    from records

),

final as (

    select
        -- lineage
        _file_path,
        _export_date,
        _line_number,
        _batch_id,

        -- numerics: what the line holds (the span-level reconciliation counts against these)
        -- counted by JSON paths on the line, without unpacking its spans into lists (at the
        -- bench's standard scale that held 3.6 GB of OTLP text and ran out of memory)
        case
            when json_type(_record, '$.resourceSpans') = 'ARRAY'
                then cast(json_array_length(_record, '$.resourceSpans') as integer)
        end as resource_span_count,
        case
            when json_type(_record, '$.resourceSpans') = 'ARRAY' then cast(coalesce(list_sum(list_transform(
                json_extract(_record, '$.resourceSpans[*].scopeSpans[*].spans'),
                lambda spans: json_array_length(spans)
            )), 0) as integer)
            else 0
        end as span_count,

        -- timestamps (UTC): the file's rotation time is its export time
        {{ otel_rotation_timestamp('_file_path') }} as exported_at,

        -- verdict
        _quarantine_reason,
        case when _quarantine_reason is not null then left(_line, 1024) end as _rejected_line

    from judged

)

select * from final
