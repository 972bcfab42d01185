{{ config(unique_key=['_file_path', '_line_number']) }}

with raw_kb_documents as (

    select * from {{ source('chatbot', 'kb_documents') }}
    {{ new_batches_only() }}

),

parsed as (

    {{ parse_export_lines('raw_kb_documents', 'kb_documents') }}

)

select * from parsed
