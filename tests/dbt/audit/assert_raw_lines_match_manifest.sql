-- The raw tables hold exactly the lines the runner's manifest counted, entity by
-- entity, less the lines of erased subjects (erased_lines: chatbatch forget, or dropped
-- at ingest): the ingest step loads a file's lines and its manifest row in one
-- transaction, so any difference means lines were lost or loaded twice. One row per
-- entity that disagrees. (The per-day balance of loaded + quarantined + duplicates
-- is the model test of audit_load_reconciliation.)
{% set tables = raw_tables() %}
{%- set present = [] %}
{%- if execute %}
{%- for column in adapter.get_columns_in_relation(source('chatbatch', 'landing_files')) %}
{%- do present.append(column.name | lower) %}
{%- endfor %}
{%- endif %}

with manifest as (

    select
        entity,
        {%- if 'erased_lines' in present %}
        sum(lines_read - coalesce(erased_lines, 0)) as manifest_lines
        {%- else %}
        sum(lines_read) as manifest_lines
        {%- endif %}
    from {{ source('chatbatch', 'landing_files') }}
    group by 1

),

raw_lines as (

    {% for table in tables %}
    select
        '{{ table.name }}' as entity,
        count(*) as raw_lines
    from {{ source(table.source, table.name) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        coalesce(manifest.entity, raw_lines.entity) as entity,
        coalesce(manifest.manifest_lines, 0) as manifest_lines,
        coalesce(raw_lines.raw_lines, 0) as raw_lines
    from manifest
    full outer join raw_lines on manifest.entity = raw_lines.entity
    where coalesce(manifest.manifest_lines, 0) <> coalesce(raw_lines.raw_lines, 0)

)

select * from final
