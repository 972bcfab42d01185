{{ config(unique_key='message_id') }}

with base_messages as (

    select * from {{ ref('base_chatbot__messages') }}
    where _quarantine_reason is null
        {{ new_batches_only('and') }}

),

renamed as (

    select
        -- ids
        message_id,
        conversation_id,

        -- strings
        role as message_role,
        text as message_text,
        intent_name,
        model as model_name,
        retrieved_document_ids,
        sentiment_label,

        -- numerics
        intent_confidence,
        sentiment_score,
        usage_input_tokens as input_tokens,
        usage_output_tokens as output_tokens,
        latency_ms,

        -- timestamps (UTC)
        sent_at,
        exported_at,

        -- lineage
        _export_date,
        _file_path,
        _line_number,
        _batch_id

    from base_messages

),

candidates as (

    {{ with_existing_rows('renamed', 'message_id') }}

),

final as (

    {{ deduplicate('candidates', 'message_id', latest_export_first()) }}

)

select * from final
