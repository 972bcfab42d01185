{{ config(unique_key=['_file_path', '_line_number']) }}

{#- One row per raw legacy trace line (traces/ layout, historical exports), typed and judged. -#}

with raw_lines as (

    select * from {{ source('langfuse', 'langfuse_traces') }}
    {{ new_batches_only() }}

),

records as (

    {{ source_records('raw_lines') }}

),

fielded as (

    select
        *,
        {{ langfuse_fields('_record', ['id', 'session_id', 'user_id', 'name', 'release', 'timestamp', 'updated_at']) }} as _fields
    from records

),

typed as (

    select
        _file_path,
        _export_date,
        _line_number,
        _batch_id,
        _line,
        _line_error,
        _record,
        {{ langfuse_text('_fields', 'id') }} as trace_id,
        {{ langfuse_text('_fields', 'session_id') }} as session_id,
        {{ langfuse_text('_fields', 'user_id') }} as user_id,
        {{ langfuse_text('_fields', 'name') }} as trace_name,
        {{ langfuse_text('_fields', 'release') }} as release,
        {%- for field in ['timestamp', 'updated_at'] %}
        {{ langfuse_text('_fields', field) }} as _raw__{{ field }},
        {{ parse_timestamp_naive_utc(langfuse_text('_fields', field)) }} as {{ field }}_at,
        {%- endfor %}
    from fielded

),

judged as (

    select
        *,
        case
            {{ unreadable_line_reason() }}
            when trace_id is null then 'missing_required_field:id'
            {%- for field in ['timestamp', 'updated_at'] %}
            when _raw__{{ field }} is not null and {{ field }}_at is null then 'bad_timestamp:{{ field }}'
            {%- endfor %}
        end as _quarantine_reason
    from typed

),

final as (

    select
        _file_path,
        _export_date,
        _line_number,
        _batch_id,
        trace_id,
        session_id,
        user_id,
        trace_name,
        release,
        timestamp_at as trace_started_at,
        updated_at_at as updated_at,
        _quarantine_reason,
        case when _quarantine_reason is not null then left(_line, 1024) end as _rejected_line
    from judged

)

select * from final
