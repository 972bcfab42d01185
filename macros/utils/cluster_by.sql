{#-
    `cluster_by` (a model config: a column list, e.g. `conversation_date`): a table the build
    creates whole (a full refresh, a first build, a table model) is written in that order.

    Why: a night replaces the rows of the conversations it recomputed (delete+insert by
    conversation_id), and those are recent conversations. Written in no particular order
    (profiles.yml: preserve_insertion_order = false), a table held rows of the last days in
    every one of its row groups, and DuckDB's checkpoint after a delete rewrites each row
    group the delete touched: the whole table, each night, growing with history. Measured on
    the bench's standard scale (30 days), publishing one night's fct_messages patch: commit
    0.81 s unordered, 0.18 s ordered by conversation_date, and the file 168 → 119 MiB (rows
    of a day compress together). Incremental runs append their new rows at the end, so the
    order holds as nights go by. The cost: one sort per full build of each clustered table.

    Overrides dbt-duckdb's `duckdb__create_table_as` for the root project and hands the
    ordered select to the adapter's own (`dbt.duckdb__create_table_as`), so contracts and
    the rest behave as before. The bench's engine floor orders the same tables. Temporary tables (an incremental run's new rows) are not ordered.
    Other engines ignore the config (dbt-spark has no such override).
-#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
    {%- set cluster_by = config.get('cluster_by') -%}
    {%- if cluster_by and language == 'sql' and not temporary -%}
        {%- set columns = [cluster_by] if cluster_by is string else cluster_by -%}
        {%- set compiled_code -%}
select * from (
{{ compiled_code }}
) as clustered_rows
order by {{ columns | join(', ') }}
        {%- endset -%}
    {%- endif -%}
    {{ return(dbt.duckdb__create_table_as(temporary, relation, compiled_code, language, partitioned_by=partitioned_by, sorted_by=sorted_by)) }}
{%- endmacro %}
