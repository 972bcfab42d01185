{#
    Use the folder's custom schema name as is (staging, intermediate, marts, ...)
    instead of dbt's default "<target schema>_<custom>": each target already has
    its own DuckDB file, so the prefix would only add noise for analysts.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
