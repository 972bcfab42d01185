{#-
    OTel user ids (`user.id`, span or resource attribute) as contract v1 users
    (docs/sources/otel-genai.md, "users"). OTel carries no user profile: created_at, segment
    and country are null.
-#}

with spans as (

    select * from {{ ref('int_otel_spans_resolved') }}
    where user_id is not null

),

final as (

    select
        -- ids
        user_id,

        -- strings
        cast(null as varchar) as user_segment,
        cast(null as varchar) as country_code,

        -- timestamps (UTC)
        cast(null as timestamp) as created_at,
        max(exported_at) as exported_at,

        -- lineage
        max(_export_date) as _export_date,
        arg_max(_file_path, _batch_id) as _file_path,
        arg_max(_line_number, _batch_id) as _line_number,
        max(_batch_id) as _batch_id

    from spans
    group by user_id

)

select * from final
