{{ config(unique_key=['_file_path', '_line_number']) }}

{#- One row per raw observation line, typed, with the first rule it breaks (docs/sources/langfuse.md). -#}

with raw_lines as (

    select * from {{ source('langfuse', 'langfuse_observations') }}
    {{ new_batches_only() }}

),

records as (

    {{ source_records('raw_lines') }}

),

fielded as (

    select
        *,
        {{ langfuse_fields('_record', ['id', 'trace_id', 'parent_observation_id', 'type', 'name', 'level', 'status_message', 'input', 'output', 'provided_model_name', 'usage_details', 'cost_details', 'tool_calls', 'tool_call_names', 'total_cost', 'user_id', 'session_id', 'trace_name', 'release', 'environment', 'is_root_observation', 'start_time', 'end_time', 'updated_at']) }} as _fields
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
        {{ langfuse_text('_fields', 'id') }} as observation_id,
        {{ langfuse_text('_fields', 'trace_id') }} as trace_id,
        {{ langfuse_text('_fields', 'parent_observation_id') }} as parent_observation_id,
        upper({{ langfuse_text('_fields', 'type') }}) as observation_type,
        {{ langfuse_text('_fields', 'name') }} as observation_name,
        upper({{ langfuse_text('_fields', 'level') }}) as observation_level,
        {{ langfuse_text('_fields', 'status_message') }} as status_message,
        {{ langfuse_text('_fields', 'input') }} as input_text,
        {{ langfuse_text('_fields', 'output') }} as output_text,
        {{ langfuse_text('_fields', 'provided_model_name') }} as provided_model_name,
        {{ langfuse_json('_fields', 'usage_details') }} as usage_details,
        {{ langfuse_json('_fields', 'cost_details') }} as cost_details,
        {{ langfuse_json('_fields', 'tool_calls') }} as tool_calls,
        {{ langfuse_json('_fields', 'tool_call_names') }} as tool_call_names,
        {{ try_cast(langfuse_text('_fields', 'total_cost'), 'double') }} as total_cost,
        {{ langfuse_text('_fields', 'user_id') }} as user_id,
        {{ langfuse_text('_fields', 'session_id') }} as session_id,
        {{ langfuse_text('_fields', 'trace_name') }} as trace_name,
        {{ langfuse_text('_fields', 'release') }} as release,
        {{ langfuse_text('_fields', 'environment') }} as environment,
        {{ try_cast(langfuse_text('_fields', 'is_root_observation'), 'boolean') }} as is_root_observation,
        {%- for field in ['start_time', 'end_time', 'updated_at'] %}
        {{ langfuse_text('_fields', field) }} as _raw__{{ field }},
        {{ parse_timestamp_naive_utc(langfuse_text('_fields', field)) }} as {{ field }},
        {%- endfor %}
        -- usage: integers; Langfuse keys `input` / `output` (other keys are kept in usage_details)
        {%- for key in ['input', 'output'] %}
        {{ langfuse_json('_fields', 'usage_details') }} ->> '{{ key }}' as _raw__usage_{{ key }},
        {{ try_cast(langfuse_json('_fields', 'usage_details') ~ " ->> '" ~ key ~ "'", 'bigint') }} as usage_{{ key }}_tokens,
        {%- endfor %}
        json_keys(_record) as _present_fields
    from fielded

),

judged as (

    select
        *,
        case
            {{ unreadable_line_reason() }}
            when observation_id is null then 'missing_required_field:id'
            when trace_id is null then 'missing_required_field:trace_id'
            when _raw__start_time is null then 'missing_required_field:start_time'
            when observation_type is null then 'missing_required_field:type'
            {%- for field in ['start_time', 'end_time', 'updated_at'] %}
            when _raw__{{ field }} is not null and {{ field }} is null then 'bad_timestamp:{{ field }}'
            {%- endfor %}
            when observation_type not in (
                'SPAN', 'EVENT', 'GENERATION', 'AGENT', 'TOOL', 'CHAIN',
                'RETRIEVER', 'EVALUATOR', 'EMBEDDING', 'GUARDRAIL'
            ) then 'invalid_enum:type'
            {%- for key in ['input', 'output'] %}
            when _raw__usage_{{ key }} is not null and usage_{{ key }}_tokens is null
                then 'bad_type:usage_details.{{ key }}'
            {%- endfor %}
        end as _quarantine_reason
    from typed

),

final as (

    select
        -- lineage
        _file_path,
        _export_date,
        _line_number,
        _batch_id,

        -- ids
        observation_id,
        trace_id,
        parent_observation_id,
        session_id,
        user_id,

        -- strings
        observation_type,
        observation_name,
        observation_level,
        status_message,
        input_text,
        output_text,
        provided_model_name,
        trace_name,
        release,
        environment,

        -- json
        usage_details,
        cost_details,
        tool_calls,
        tool_call_names,

        -- numerics
        usage_input_tokens,
        usage_output_tokens,
        total_cost,

        -- booleans
        is_root_observation,
        -- field groups switched off: the `basic` group brings session_id, `usage` usage_details
        not list_contains(_present_fields, 'session_id') as is_basic_group_off,
        not list_contains(_present_fields, 'usage_details') as is_usage_group_off,

        -- timestamps (UTC)
        start_time,
        end_time,
        updated_at,

        -- verdict
        _quarantine_reason,
        case when _quarantine_reason is not null then left(_line, 1024) end as _rejected_line

    from judged

)

select * from final
