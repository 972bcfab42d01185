{{ config(unique_key=['_file_path', '_line_number']) }}

with raw_conversations as (

    select * from {{ source('chatbot', 'conversations') }}
    {{ new_batches_only() }}

),

parsed as (

    {{ parse_export_lines('raw_conversations', 'conversations') }}

)

select * from parsed
