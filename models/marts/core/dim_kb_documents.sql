with

kb_documents as (

    select * from {{ ref('stg_chatbot__kb_documents') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by document_id
            order by document_version desc
        ) as version_rank,
        count(*) over (partition by document_id) as version_count

    from kb_documents

),

final as (

    select
        -- ids
        document_id,

        -- strings
        document_title,
        document_url,
        document_language,
        document_body,

        -- numerics
        cast(document_version as integer) as document_version,
        cast(version_count as integer) as version_count,

        -- booleans
        is_deleted,

        -- timestamps (UTC)
        updated_at

    from ranked
    where version_rank = 1

)

select * from final
