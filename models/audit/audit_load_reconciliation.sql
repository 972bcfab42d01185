{{ config(materialized='table') }}

{%- set tables = raw_tables() %}

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
        sum(erased_lines) as erased,
        count(file_error) as files_with_errors,
        -- files whose lines read differ from the rows their manifest (or Parquet footer) declares
        count(case when declared_rows is not null and declared_rows != lines_read then 1 end)
            as files_off_declared
    from landing_files
    group by 1, 2

),

valid_lines as (

    {%- for table in tables %}
    select
        '{{ table.name }}' as entity,
        _export_date as export_date,
        count(*) as valid_lines
    from {{ ref(table.base) }}
    where _quarantine_reason is null
    group by 1, 2
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

loaded as (

    {%- for table in tables %}
    select
        '{{ table.name }}' as entity,
        _export_date as export_date,
        count(*) as loaded
    {%- if table.stg %}
    from {{ ref(table.stg) }}
    {%- else %}
    -- a loaded line is not one keyed record here: every valid line is loaded
    from {{ ref(table.base) }}
    where _quarantine_reason is null
    {%- endif %}
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
        lines_read.erased,
        (
            lines_read.lines_read
            = coalesce(quarantined.quarantined, 0)
            + coalesce(valid_lines.valid_lines, 0)
            + lines_read.erased
            and lines_read.files_off_declared = 0
        ) as is_balanced
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
