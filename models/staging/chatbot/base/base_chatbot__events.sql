{{ config(unique_key=['_file_path', '_line_number']) }}

with raw_events as (

    select * from {{ source('chatbot', 'events') }}
    {{ new_batches_only() }}

),

parsed as (

    {{ parse_export_lines('raw_events', 'events') }}

)

select * from parsed
