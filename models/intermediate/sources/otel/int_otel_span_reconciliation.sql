{#-
    The span-level load reconciliation, per landing file (docs/sources/otel-genai.md): the
    line level (lines = loaded + quarantined) as in audit_load_reconciliation, and for the
    loaded lines spans = loaded + quarantined + duplicates, where `spans` is counted from the
    lines themselves (base_otel__traces.span_count), the rest from the exploded spans.
-#}

with lines as (

    select
        _file_path as file_path,
        max(_export_date) as export_date,
        count(*) as lines,
        count(*) filter (where _quarantine_reason is null) as lines_loaded,
        count(_quarantine_reason) as lines_quarantined,
        coalesce(sum(span_count) filter (where _quarantine_reason is null), 0) as spans
    from {{ ref('base_otel__traces') }}
    group by 1

),

exploded as (

    select
        _file_path as file_path,
        count(*) as spans_exploded,
        count(_quarantine_reason) as spans_quarantined,
        count(*) filter (where _quarantine_reason is null) as spans_valid
    from {{ ref('base_otel__spans') }}
    group by 1

),

kept as (

    select
        _file_path as file_path,
        count(*) as spans_loaded
    from {{ ref('stg_otel__spans') }}
    group by 1

),

final as (

    select
        lines.file_path,
        lines.export_date,
        lines.lines,
        lines.lines_loaded,
        lines.lines_quarantined,
        lines.spans,
        coalesce(kept.spans_loaded, 0) as spans_loaded,
        coalesce(exploded.spans_quarantined, 0) as spans_quarantined,
        coalesce(exploded.spans_valid, 0) - coalesce(kept.spans_loaded, 0) as spans_duplicate,
        (
            lines.lines = lines.lines_loaded + lines.lines_quarantined
            and lines.spans = coalesce(exploded.spans_exploded, 0)
        ) as is_balanced
    from lines
    left join exploded
        on lines.file_path = exploded.file_path
    left join kept
        on lines.file_path = kept.file_path

)

select * from final
