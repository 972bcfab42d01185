{{ config(unique_key=['_file_path', '_line_number']) }}

with raw_messages as (

    select * from {{ source('chatbot', 'messages') }}
    {{ new_batches_only() }}

),

parsed as (

    {{ parse_export_lines('raw_messages', 'messages') }}

)

select * from parsed
