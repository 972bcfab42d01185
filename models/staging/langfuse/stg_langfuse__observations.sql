{{ config(unique_key='observation_id') }}

{#- Valid observations, one row per observation_id: the latest updated_at wins, then the latest end_time (a re-export after a stream ended); an identical repeat (windows share their boundary) keeps the first to arrive. -#}

with base_rows as (

    select * exclude (_quarantine_reason, _rejected_line)
    from {{ ref('base_langfuse__observations') }}
    where _quarantine_reason is null
        {{ new_batches_only('and') }}

),

candidates as (

    {{ with_existing_rows('base_rows', 'observation_id') }}

),

final as (

    {{ deduplicate('candidates', 'observation_id', "updated_at desc nulls last, end_time desc nulls last, _export_date asc, _file_path asc, _line_number asc") }}

)

select * from final
