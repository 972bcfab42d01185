{{ config(unique_key=['trace_id', 'span_id']) }}

{#- Valid spans, one row per (traceId, spanId): of differing versions the one from the later file
    (rotation timestamp), then the later line, wins; identical re-sends (exporter retries) keep
    the first copy to arrive, so a retry never replaces a row. The other copies are the span-level
    duplicates (int_otel_span_reconciliation). -#}

with base_rows as (

    select * exclude (_quarantine_reason, _rejected_line)
    from {{ ref('base_otel__spans') }}
    where _quarantine_reason is null
        {{ new_batches_only('and') }}

),

candidates as (

    {{ with_existing_rows('base_rows', 'trace_id, span_id') }}

),

versioned as (

    select
        *,
        first_value(_span_hash) over (
            partition by trace_id, span_id
            order by exported_at desc nulls last, _file_path desc, _line_number desc, _span_index desc
        ) as _winning_hash
    from candidates

),

winning_copies as (

    select * exclude (_winning_hash)
    from versioned
    where _span_hash = _winning_hash

),

final as (

    {{ deduplicate('winning_copies', 'trace_id, span_id', "exported_at asc nulls last, _file_path asc, _line_number asc, _span_index asc") }}

)

select * from final
