with landing_files as (

    select * from {{ source('chatbatch', 'landing_files') }}

),

final as (

    select
        -- ids
        file_path,
        batch_id,

        -- strings
        entity,
        sha256,
        file_error,

        -- numerics
        size_bytes,
        lines_read,
        {%- set present = [] %}
        {%- if execute %}
        {%- for column in adapter.get_columns_in_relation(source('chatbatch', 'landing_files')) %}
        {%- do present.append(column.name | lower) %}
        {%- endfor %}
        {%- endif %}
        -- rows the manifest (Langfuse) or the Parquet footer declares; null when not declared
        {%- if 'declared_rows' in present %}
        declared_rows,
        {%- else %}
        cast(null as bigint) as declared_rows,
        {%- endif %}
        -- lines of erased subjects (chatbatch forget, or dropped at ingest): not in raw
        {%- if 'erased_lines' in present %}
        coalesce(erased_lines, 0) as erased_lines,
        {%- else %}
        cast(0 as bigint) as erased_lines,
        {%- endif %}

        -- dates
        export_date,

        -- timestamps (UTC)
        first_seen_at,
        ingested_at,

        -- booleans
        file_error is not null as has_file_error

    from landing_files

)

select * from final
