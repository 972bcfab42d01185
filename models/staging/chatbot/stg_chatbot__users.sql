{{ config(unique_key='user_id') }}

with base_users as (

    select * from {{ ref('base_chatbot__users') }}
    where _quarantine_reason is null
        {{ new_batches_only('and') }}

),

renamed as (

    select
        -- ids
        user_id,

        -- strings
        segment as user_segment,
        upper(country) as country_code,

        -- timestamps (UTC)
        created_at,
        exported_at,

        -- lineage
        _export_date,
        _file_path,
        _line_number,
        _batch_id

    from base_users

),

candidates as (

    {{ with_existing_rows('renamed', 'user_id') }}

),

final as (

    {{ deduplicate('candidates', 'user_id', latest_export_first()) }}

)

select * from final
