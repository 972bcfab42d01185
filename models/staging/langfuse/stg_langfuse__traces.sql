{{ config(unique_key='trace_id') }}

{#- Valid traces, one row per trace_id: legacy layout; the latest updated_at wins. -#}

with base_rows as (

    select * exclude (_quarantine_reason, _rejected_line)
    from {{ ref('base_langfuse__traces') }}
    where _quarantine_reason is null
        {{ new_batches_only('and') }}

),

candidates as (

    {{ with_existing_rows('base_rows', 'trace_id') }}

),

final as (

    {{ deduplicate('candidates', 'trace_id', "updated_at desc nulls last, _export_date asc, _file_path asc, _line_number asc") }}

)

select * from final
