{#
    parse_export_lines(relation, entity)

    Turns raw landing lines (one row per line, as the ingest step loaded them) into
    one row per line with every contract field typed, and a verdict:
    `_quarantine_reason` is null for a valid record, else the first rule it breaks,
    in this order:
        1. the ingest's line error (invalid_utf8, truncated_file)
        2. malformed_json (not JSON) / not_a_json_object (JSON, but not an object)
        3. missing_required_field:<field>
        4. bad_timestamp:<field>    (not ISO-8601 with an offset or Z)
        5. bad_type:<field>         (present but not castable to the field's type)
        6. invalid_enum:<field>     (outside the accepted values after lower/trim)
        7. the entity's checks      (e.g. out_of_range:value)
    Nested fields are flattened with underscores (intent.name -> intent_name).
    Drift fields (`staged: false` in the contract) are typed leniently and never judged:
    they are never the reason a line is quarantined; a value of the wrong type, or outside
    the field's enum, becomes null (a producer adding a variant does not lose the record).
    `_rejected_line` keeps the first kB of the line for quarantined rows only.
#}
{% macro parse_export_lines(relation, entity) %}
    {%- set contract = chatbot_analytics.export_contract(entity) -%}
    {%- set fields = contract.fields -%}
    {#- drift fields (staged: false) are typed leniently and never judged -#}
    {%- set judged = contract.fields | rejectattr('staged', 'sameas', false) | list -%}
    {%- set shape = {} -%}
    {%- for field in fields -%}
        {%- set kind = {'text_array': 'text_array', 'json': 'json'}.get(field.type, 'text') -%}
        {%- set parts = field.name.split('.') -%}
        {%- if parts | length == 1 -%}
            {%- do shape.update({field.name: kind}) -%}
        {%- else -%}
            {%- set nested = shape.get(parts[0], {}) -%}
            {%- do nested.update({parts[1]: kind}) -%}
            {%- do shape.update({parts[0]: nested}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set lineage = '_file_path, _export_date, _line_number, _batch_id' -%}
    {%- set columns = [] -%}
    {%- for field in fields -%}
        {%- do columns.append(field.name | replace('.', '_')) -%}
    {%- endfor -%}
    select
        {{ lineage }},
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        _quarantine_reason,
        case
            when _quarantine_reason is not null then left(_line, 1024)
        end as _rejected_line
    from (
    select
        {{ lineage }},
        _line,
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        case
            when _line_error is not null then _line_error
            when _record is null then
                case
                    when {{ chatbot_analytics.json_is_valid('_line') }} then 'not_a_json_object'
                    else 'malformed_json'
                end
            {%- for field in judged if field.required %}
            when _raw__{{ field.name | replace('.', '_') }} is null
                then 'missing_required_field:{{ field.name }}'
            {%- endfor %}
            {%- for field in judged if field.type == 'timestamp' %}
            when _raw__{{ field.name | replace('.', '_') }} is not null
                and {{ field.name | replace('.', '_') }} is null
                then 'bad_timestamp:{{ field.name }}'
            {%- endfor %}
            {%- for field in judged if field.type in ('integer', 'number', 'boolean') %}
            when _raw__{{ field.name | replace('.', '_') }} is not null
                and {{ field.name | replace('.', '_') }} is null
                then 'bad_type:{{ field.name }}'
            {%- endfor %}
            {%- for field in judged if field.enum %}
            when {{ field.name | replace('.', '_') }} not in ('{{ field.enum | join("', '") }}')
                then 'invalid_enum:{{ field.name }}'
            {%- endfor %}
            {%- for check in contract.checks %}
            when {{ check.fails_when }} then '{{ check.reason }}'
            {%- endfor %}
        end as _quarantine_reason
    from (
        select
            {{ lineage }},
            _line,
            _line_error,
            _record,
            {%- for field in fields %}
            {%- set column = field.name | replace('.', '_') %}
            {%- set value = chatbot_analytics.struct_field('_record', field.name) %}
            {%- if field.type in ('text_array', 'json') %}
            {{ value }} as _raw__{{ column }},
            {{ value }} as {{ column }}
            {%- elif field.type == 'timestamp' %}
            {{ value }} as _raw__{{ column }},
            {{ chatbot_analytics.parse_timestamp_utc(value) }} as {{ column }}
            {%- elif field.type == 'integer' %}
            {{ value }} as _raw__{{ column }},
            {{ chatbot_analytics.try_cast(value, 'bigint') }} as {{ column }}
            {%- elif field.type == 'number' %}
            {{ value }} as _raw__{{ column }},
            {{ chatbot_analytics.try_cast(value, 'double') }} as {{ column }}
            {%- elif field.type == 'boolean' %}
            {{ value }} as _raw__{{ column }},
            {{ chatbot_analytics.try_cast(value, 'boolean') }} as {{ column }}
            {%- elif field.enum and field.staged is sameas false %}
            {{ value }} as _raw__{{ column }},
            case
                when lower(trim({{ value }})) in ('{{ field.enum | join("', '") }}')
                    then lower(trim({{ value }}))
            end as {{ column }}
            {%- elif field.enum %}
            {{ value }} as _raw__{{ column }},
            lower(trim({{ value }})) as {{ column }}
            {%- else %}
            {{ value }} as _raw__{{ column }},
            {{ value }} as {{ column }}
            {%- endif %}
            {{- "," if not loop.last }}
            {%- endfor %}
        from (
            select
                {{ lineage }},
                _line,
                _line_error,
                {{ chatbot_analytics.json_parse_object('_line', shape) }} as _record
            from {{ relation }}
        ) as records
    ) as typed
    ) as judged
{% endmacro %}
