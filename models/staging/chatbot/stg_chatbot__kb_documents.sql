{{ config(unique_key=['document_id', 'document_version']) }}

with base_kb_documents as (

    select * from {{ ref('base_chatbot__kb_documents') }}
    where _quarantine_reason is null
        {{ new_batches_only('and') }}

),

renamed as (

    select
        -- ids
        document_id,

        -- strings
        title as document_title,
        url as document_url,
        body as document_body,
        language as document_language,

        -- numerics
        version as document_version,

        -- booleans
        coalesce(is_deleted, false) as is_deleted,

        -- timestamps (UTC)
        updated_at,
        exported_at,

        -- lineage
        _export_date,
        _file_path,
        _line_number,
        _batch_id

    from base_kb_documents

),

candidates as (

    {{ with_existing_rows('renamed', 'document_id, document_version') }}

),

final as (

    {{ deduplicate('candidates', 'document_id, document_version', latest_export_first()) }}

)

select * from final
