{{ config(materialized='table') }}

{%- set entities = {
    'conversations': 'stg_chatbot__conversations',
    'messages': 'stg_chatbot__messages',
    'events': 'stg_chatbot__events',
    'feedback': 'stg_chatbot__feedback',
    'kb_documents': 'stg_chatbot__kb_documents',
    'users': 'stg_chatbot__users',
} %}

with landing_files as (

    select * from {{ ref('stg_chatbatch__landing_files') }}

),

quarantine_records as (

    select * from {{ ref('quarantine_records') }}

),

lines_read as (

    select
        entity,
        export_date,
        count(*) as files,
        sum(lines_read) as lines_read,
        count(file_error) as files_with_errors
    from landing_files
    group by 1, 2

),

valid_lines as (

    {%- for entity in entities %}
    select
        '{{ entity }}' as entity,
        _export_date as export_date,
        count(*) as valid_lines
    from {{ ref('base_chatbot__' ~ entity) }}
    where _quarantine_reason is null
    group by 1, 2
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

loaded as (

    {%- for entity, staging_model in entities.items() %}
    select
        '{{ entity }}' as entity,
        _export_date as export_date,
        count(*) as loaded
    from {{ ref(staging_model) }}
    group by 1, 2
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

quarantined as (

    select
        entity,
        export_date,
        count(*) as quarantined
    from quarantine_records
    group by 1, 2

),

final as (

    select
        lines_read.entity,
        lines_read.export_date,
        lines_read.files,
        lines_read.files_with_errors,
        lines_read.lines_read,
        coalesce(loaded.loaded, 0) as loaded,
        coalesce(quarantined.quarantined, 0) as quarantined,
        coalesce(valid_lines.valid_lines, 0)
        - coalesce(loaded.loaded, 0) as duplicates,
        lines_read.lines_read
        = coalesce(quarantined.quarantined, 0)
        + coalesce(valid_lines.valid_lines, 0) as is_balanced
    from lines_read
    left join valid_lines
        on
            lines_read.entity = valid_lines.entity
            and lines_read.export_date = valid_lines.export_date
    left join loaded
        on
            lines_read.entity = loaded.entity
            and lines_read.export_date = loaded.export_date
    left join quarantined
        on
            lines_read.entity = quarantined.entity
            and lines_read.export_date = quarantined.export_date

)

select * from final
