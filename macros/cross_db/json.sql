{#
    Engine-specific JSON handling. Models call these through adapter.dispatch so the
    same model SQL can run on DuckDB today and on Spark later.
#}

{#- Parse a JSON text into a struct of the given shape in one pass; null when the
    text is not a JSON object. `shape` maps field -> 'text' | 'json' | 'text_array' |
    {nested field -> kind}. Scalars come back as text, so a wrong type never fails
    the read: typing and judging happen afterwards. -#}
{% macro json_parse_object(column, shape) -%}
    {{ return(adapter.dispatch('json_parse_object', 'chatbot_analytics')(column, shape)) }}
{%- endmacro %}

{% macro duckdb__json_parse_object(column, shape) -%}
    case
        when json_valid({{ column }}) and json_type({{ column }}) = 'OBJECT'
            then json_transform({{ column }}, '{{ tojson(chatbot_analytics.duckdb_json_shape(shape)) }}')
    end
{%- endmacro %}

{#- Spark: its own JSON parser (from_json, the one spark.read.json uses) with the same
    shape as a DDL schema; null unless the whole text is one JSON object (trailing
    garbage makes it malformed, as in DuckDB). -#}
{% macro spark__json_parse_object(column, shape) -%}
    case
        when json_object_keys({{ column }}) is not null
            and {{ chatbot_analytics.spark__json_is_valid(column) }}
            then from_json({{ column }}, '{{ chatbot_analytics.spark_json_shape(shape) }}')
    end
{%- endmacro %}

{% macro spark_json_shape(shape, separator=' ') -%}
    {#- DDL: `a` string, `b` struct<`c`: string> (colons only inside struct<>) -#}
    {%- set kinds = {'text': 'string', 'json': 'string', 'text_array': 'array<string>'} -%}
    {%- set fields = [] -%}
    {%- for name, kind in shape.items() -%}
        {%- if kind is mapping -%}
            {%- set inner = chatbot_analytics.spark_json_shape(kind, ': ') -%}
            {%- do fields.append('`' ~ name ~ '`' ~ separator ~ 'struct<' ~ inner ~ '>') -%}
        {%- else -%}
            {%- do fields.append('`' ~ name ~ '`' ~ separator ~ kinds[kind]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(fields | join(', ')) }}
{%- endmacro %}

{% macro duckdb_json_shape(shape) -%}
    {%- set kinds = {'text': 'VARCHAR', 'json': 'JSON', 'text_array': ['VARCHAR']} -%}
    {%- set out = {} -%}
    {%- for name, kind in shape.items() -%}
        {%- if kind is mapping -%}
            {%- do out.update({name: chatbot_analytics.duckdb_json_shape(kind)}) -%}
        {%- else -%}
            {%- do out.update({name: kinds[kind]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#- True when the text is syntactically valid JSON (any kind of value). -#}
{% macro json_is_valid(column) -%}
    {{ return(adapter.dispatch('json_is_valid', 'chatbot_analytics')(column)) }}
{%- endmacro %}

{% macro duckdb__json_is_valid(column) -%}
    json_valid({{ column }})
{%- endmacro %}

{#- Spark: any JSON value is valid exactly when wrapping it as a member gives an object. -#}
{% macro spark__json_is_valid(column) -%}
    (json_object_keys(concat('{"v":', {{ column }}, '}')) is not null)
{%- endmacro %}

{#- Read one field of a parsed struct, quoting the field name for the engine. -#}
{% macro struct_field(struct_column, path) -%}
    {{ struct_column }}{% for part in path.split('.') %}.{{ adapter.quote(part) }}{% endfor %}
{%- endmacro %}
