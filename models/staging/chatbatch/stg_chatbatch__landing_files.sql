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
