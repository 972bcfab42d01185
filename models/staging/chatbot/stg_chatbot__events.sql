{{ config(unique_key='event_id') }}

with base_events as (

    select * from {{ ref('base_chatbot__events') }}
    where _quarantine_reason is null
        {{ new_batches_only('and') }}

),

renamed as (

    select
        -- ids
        event_id,
        conversation_id,
        message_id,

        -- strings
        event_type,
        payload,

        -- timestamps (UTC)
        occurred_at,
        exported_at,

        -- lineage
        _export_date,
        _file_path,
        _line_number,
        _batch_id

    from base_events

),

candidates as (

    {{ with_existing_rows('renamed', 'event_id') }}

),

final as (

    {{ deduplicate('candidates', 'event_id', latest_export_first()) }}

)

select * from final
