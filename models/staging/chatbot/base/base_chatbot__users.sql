{{ config(unique_key=['_file_path', '_line_number']) }}

with raw_users as (

    select * from {{ source('chatbot', 'users') }}
    {{ new_batches_only() }}

),

parsed as (

    {{ parse_export_lines('raw_users', 'users') }}

)

select * from parsed
