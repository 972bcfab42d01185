{{ config(unique_key='score_id') }}

{#- Valid scores, one row per score_id: the latest updated_at wins; an identical repeat keeps the first to arrive. -#}

with base_rows as (

    select * exclude (_quarantine_reason, _rejected_line)
    from {{ ref('base_langfuse__scores') }}
    where _quarantine_reason is null
        {{ new_batches_only('and') }}

),

candidates as (

    {{ with_existing_rows('base_rows', 'score_id') }}

),

final as (

    {{ deduplicate('candidates', 'score_id', "updated_at desc nulls last, _export_date asc, _file_path asc, _line_number asc") }}

)

select * from final
