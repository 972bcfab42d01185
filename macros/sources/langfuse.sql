{#
    Helpers of the Langfuse staging models (docs/sources/langfuse.md). DuckDB only for now:
    the models using them are tagged duckdb_only.
#}

{#- The fields a model reads from a raw record, parsed once: a struct of JSON values, one per
    name. Every field read through langfuse_text / langfuse_json must be listed. Reading each
    field straight from the record text parsed the whole line again per field (~120 times a
    line): the standard-scale bench's cold build of 2.6 M observations took 400 s on one
    thread and ran out of memory on two. -#}
{% macro langfuse_fields(record, names) -%}
    {%- set shape = {} -%}
    {%- for name in names -%}
        {%- do shape.update({name: 'JSON'}) -%}
    {%- endfor -%}
    json_transform({{ record }}, '{{ tojson(shape) }}')
{%- endmacro %}

{#- A text field (of a langfuse_fields struct), with Langfuse's "" for "not set" turned into
    null. A field holding a JSON object or array (JSONL) comes back as its JSON text. -#}
{% macro langfuse_text(fields, field) -%}
    {%- set value = fields ~ '."' ~ field ~ '"' -%}
    nullif(
        case
            when json_type({{ value }}) in ('OBJECT', 'ARRAY') then {{ value }}::varchar
            else json_extract_string({{ value }}, '$')
        end,
        ''
    )
{%- endmacro %}

{#- A JSON field (of a langfuse_fields struct) that may arrive structured (JSONL, Parquet) or
    JSON-encoded in a string (CSV): always JSON, null when absent, empty or not JSON. -#}
{% macro langfuse_json(fields, field) -%}
    {%- set value = fields ~ '."' ~ field ~ '"' -%}
    case
        when json_type({{ value }}) in ('OBJECT', 'ARRAY') then {{ value }}
        when json_valid(json_extract_string({{ value }}, '$'))
            then json(json_extract_string({{ value }}, '$'))
    end
{%- endmacro %}

{#- The text of a chat message content given as a list of parts: the `text` parts, joined
    with a newline (other parts, e.g. images, are not text). -#}
{% macro langfuse_content_text(parts) -%}
    nullif(array_to_string(
        list_transform(
            list_filter(cast({{ parts }} as json[]), lambda part: part ->> 'type' = 'text'),
            lambda part: part ->> 'text'
        ),
        chr(10)
    ), '')
{%- endmacro %}
