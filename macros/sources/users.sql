{#-
    users_without_profile(records, exported_at)

    Contract v1 users from a source that knows user ids but no user profile (Langfuse,
    OTel): one row per user id of `records` (a CTE or relation with user_id, lineage columns
    and `exported_at`, the column that orders re-exports); created_at, segment and country
    are null (docs/sources/*.md, "users").
-#}
{% macro users_without_profile(records, exported_at) -%}
    select
        -- ids
        user_id,

        -- strings
        cast(null as varchar) as user_segment,
        cast(null as varchar) as country_code,

        -- timestamps (UTC)
        cast(null as timestamp) as created_at,
        max({{ exported_at }}) as exported_at,

        -- lineage
        max(_export_date) as _export_date,
        arg_max(_file_path, _batch_id) as _file_path,
        arg_max(_line_number, _batch_id) as _line_number,
        max(_batch_id) as _batch_id

    from {{ records }}
    where user_id is not null
    group by user_id
{%- endmacro %}
