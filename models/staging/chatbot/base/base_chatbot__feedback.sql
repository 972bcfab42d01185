{{ config(unique_key=['_file_path', '_line_number']) }}

with raw_feedback as (

    select * from {{ source('chatbot', 'feedback') }}
    {{ new_batches_only() }}

),

parsed as (

    {{ parse_export_lines('raw_feedback', 'feedback') }}

)

select * from parsed
