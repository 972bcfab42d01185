{{ config(unique_key='feedback_id') }}

with base_feedback as (

    select * from {{ ref('base_chatbot__feedback') }}
    where _quarantine_reason is null
        {{ new_batches_only('and') }}

),

renamed as (

    select
        -- ids
        feedback_id,
        conversation_id,
        message_id,

        -- strings
        kind as feedback_kind,
        comment as comment_text,

        -- numerics
        value as feedback_value,

        -- timestamps (UTC)
        submitted_at,
        exported_at,

        -- lineage
        _export_date,
        _file_path,
        _line_number,
        _batch_id

    from base_feedback

),

candidates as (

    {{ with_existing_rows('renamed', 'feedback_id') }}

),

final as (

    {{ deduplicate('candidates', 'feedback_id', latest_export_first()) }}

)

select * from final
