{#
    list_with_positions(list)

    The list's items as structs {value, position} (position counts from 1), for a
    select-list `unnest(...)`: DuckDB plans `from t, unnest(t.list) with ordinality` as a
    correlated join that first groups and hash-joins every row of t on the correlated
    columns (the whole OTLP line or message JSON: gigabytes at the bench's standard scale),
    where a select-list unnest streams row by row.
#}
{% macro list_with_positions(list) -%}
    {{ return(adapter.dispatch('list_with_positions', 'chatbot_analytics')(list)) }}
{%- endmacro %}

{% macro duckdb__list_with_positions(list) -%}
    list_transform({{ list }}, lambda list_value, list_position: struct_pack(value := list_value, position := list_position))
{%- endmacro %}

{% macro spark__list_with_positions(list) -%}
    transform({{ list }}, (list_value, list_index) -> named_struct('value', list_value, 'position', list_index + 1))
{%- endmacro %}
