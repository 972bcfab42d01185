{{
    config(
        materialized='incremental',
        incremental_strategy='append',
    )
}}

{%- set tables = raw_tables() %}

with rejected_lines as (

    {%- for table in tables %}
    select
        '{{ table.name }}' as entity,
        _file_path,
        _export_date,
        _line_number,
        _quarantine_reason,
        _rejected_line,
        _batch_id
    from {{ ref(table.base) }}
    where
        _quarantine_reason is not null
        {{ new_batches_only('and', this_column='batch_id') }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

final as (

    select
        -- ids
        _batch_id as batch_id,

        -- strings
        entity,
        _file_path as file_path,
        _quarantine_reason as quarantine_reason,
        -- published to analysts: PII redacted; the landing file and line hold the original
        {{ redact_pii('_rejected_line') }} as raw_line,

        -- numerics
        _line_number as line_number,

        -- dates
        _export_date as export_date,

        -- derived
        _file_path || ':' || cast(_line_number as {{ dbt.type_string() }}) as landing_line_id,
        split_part(_quarantine_reason, ':', 1) as reason_code

    from rejected_lines

)

select * from final
