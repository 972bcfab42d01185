{{ config(unique_key=['_file_path', '_line_number']) }}

{#- One row per raw score line, typed, with the first rule it breaks. Scores whose name is a
    feedback name (var langfuse_feedback_scores) are also judged as feedback. -#}
{%- set feedback = var('langfuse_feedback_scores', {}) %}
{%- set feedback_names = (feedback.get('thumbs') or []) + (feedback.get('csat') or []) + (feedback.get('comment') or []) %}
{%- set labels = var('langfuse_categorical_values', {}) %}

with raw_lines as (

    select * from {{ source('langfuse', 'langfuse_scores') }}
    {{ new_batches_only() }}

),

records as (

    {{ source_records('raw_lines') }}

),

fielded as (

    select
        *,
        {{ langfuse_fields('_record', ['id', 'trace_id', 'observation_id', 'session_id', 'name', 'data_type', 'source', 'value', 'string_value', 'comment', 'timestamp', 'updated_at']) }} as _fields
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
        {{ langfuse_text('_fields', 'id') }} as score_id,
        {{ langfuse_text('_fields', 'trace_id') }} as trace_id,
        {{ langfuse_text('_fields', 'observation_id') }} as observation_id,
        {{ langfuse_text('_fields', 'session_id') }} as session_id,
        {{ langfuse_text('_fields', 'name') }} as score_name,
        upper({{ langfuse_text('_fields', 'data_type') }}) as data_type,
        {{ langfuse_text('_fields', 'source') }} as score_source,
        {{ langfuse_text('_fields', 'value') }} as _raw__value,
        {{ try_cast(langfuse_text('_fields', 'value'), 'double') }} as score_value,
        {{ langfuse_text('_fields', 'string_value') }} as string_value,
        {{ langfuse_text('_fields', 'comment') }} as comment_text,
        {%- for field in ['timestamp', 'updated_at'] %}
        {{ langfuse_text('_fields', field) }} as _raw__{{ field }},
        {{ parse_timestamp_naive_utc(langfuse_text('_fields', field)) }} as {{ field }}_at,
        {%- endfor %}
        case
            {%- for kind in ['thumbs', 'csat', 'comment'] %}
            {%- set names = feedback.get(kind) or [] %}
            {%- if names %}
            when {{ langfuse_text('_fields', 'name') }} in ('{{ names | join("', '") }}') then '{{ kind }}'
            {%- endif %}
            {%- endfor %}
        end as feedback_kind
    from fielded

),

judged as (

    select
        *,
        case
            {{ unreadable_line_reason() }}
            when score_id is null then 'missing_required_field:id'
            when score_name is null then 'missing_required_field:name'
            when _raw__timestamp is null then 'missing_required_field:timestamp'
            when data_type is null then 'missing_required_field:data_type'
            {%- for field in ['timestamp', 'updated_at'] %}
            when _raw__{{ field }} is not null and {{ field }}_at is null then 'bad_timestamp:{{ field }}'
            {%- endfor %}
            when data_type not in ('NUMERIC', 'BOOLEAN', 'CATEGORICAL', 'TEXT') then 'invalid_enum:data_type'
            when _raw__value is not null and score_value is null then 'bad_type:value'
            -- feedback scores only
            when feedback_kind is not null and trace_id is null then 'missing_required_field:trace_id'
            when feedback_kind = 'csat' and data_type = 'NUMERIC'
                and (score_value is null or score_value != floor(score_value) or score_value < 1 or score_value > 5)
                then 'out_of_range:value'
            when feedback_kind is not null and data_type = 'CATEGORICAL'
                {%- if labels %}
                and coalesce(string_value not in ('{{ labels.keys() | list | join("', '") }}'), true)
                {%- endif %}
                then 'invalid_enum:string_value'
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
        score_id,
        trace_id,
        observation_id,
        session_id,

        -- strings
        score_name,
        data_type,
        score_source,
        string_value,
        comment_text,
        feedback_kind,

        -- numerics
        score_value,

        -- timestamps (UTC)
        timestamp_at as scored_at,
        updated_at_at as updated_at,

        -- verdict
        _quarantine_reason,
        case when _quarantine_reason is not null then left(_line, 1024) end as _rejected_line

    from judged

)

select * from final
