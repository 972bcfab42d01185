{#
    Helpers of the Langfuse staging models (docs/sources/langfuse.md). DuckDB only for now:
    the models using them are tagged duckdb_only.
#}

{#- A text field of a parsed record, with Langfuse's "" for "not set" turned into null.
    A field holding a JSON object or array (JSONL) comes back as its JSON text. -#}
{% macro langfuse_text(record, field) -%}
    nullif(
        case
            when json_type({{ record }}, '$.{{ field }}') in ('OBJECT', 'ARRAY')
                then json_extract({{ record }}, '$.{{ field }}')::varchar
            else json_extract_string({{ record }}, '$.{{ field }}')
        end,
        ''
    )
{%- endmacro %}

{#- A JSON field that may arrive structured (JSONL, Parquet) or JSON-encoded in a string
    (CSV): always JSON, null when absent, empty or not JSON. -#}
{% macro langfuse_json(record, field) -%}
    case
        when json_type({{ record }}, '$.{{ field }}') in ('OBJECT', 'ARRAY')
            then json_extract({{ record }}, '$.{{ field }}')
        when json_valid(json_extract_string({{ record }}, '$.{{ field }}'))
            then json(json_extract_string({{ record }}, '$.{{ field }}'))
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
