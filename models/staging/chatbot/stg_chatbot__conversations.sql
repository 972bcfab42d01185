{{ config(unique_key='conversation_id') }}

with base_conversations as (

    select * from {{ ref('base_chatbot__conversations') }}
    where _quarantine_reason is null
        {{ new_batches_only('and') }}

),

renamed as (

    select
        -- ids
        conversation_id,
        user_id,
        bot_id,

        -- strings
        channel,
        locale,
        bot_version,
        end_reason,
        experiment_variant,
        attributes,

        -- timestamps (UTC)
        started_at,
        ended_at,
        exported_at,

        -- lineage
        _export_date,
        _file_path,
        _line_number,
        _batch_id

    from base_conversations

),

candidates as (

    {{ with_existing_rows('renamed', 'conversation_id') }}

),

final as (

    {{ deduplicate('candidates', 'conversation_id', latest_export_first()) }}

)

select * from final
