{#
    deduplicate(relation, partition_by, order_by)

    Keep one row per `partition_by` key: the first by `order_by`. Staging uses it with
    the project's one winner rule, `latest_export_first()`, so an incremental run and
    a full refresh pick the same row whatever order the files arrived in.
#}
{% macro deduplicate(relation, partition_by, order_by) -%}
    {{ return(adapter.dispatch('deduplicate', 'chatbot_analytics')(relation, partition_by, order_by)) }}
{%- endmacro %}

{% macro duckdb__deduplicate(relation, partition_by, order_by) -%}
    select *
    from {{ relation }}
    qualify row_number() over (partition by {{ partition_by }} order by {{ order_by }}) = 1
{%- endmacro %}

{#- Spark (no qualify): rank whole rows kept as one struct, then expand the winner. -#}
{% macro spark__deduplicate(relation, partition_by, order_by) -%}
    select ranked._row.*
    from (
        select
            struct(*) as _row,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as _row_rank
        from {{ relation }}
    ) as ranked
    where ranked._row_rank = 1
{%- endmacro %}

{#-
    The winner among several lines carrying the same key: the latest exported_at;
    on a tie (an identical re-delivery) the first to arrive, by export date, file and
    line. A total order, so the result never depends on processing order.
-#}
{% macro latest_export_first() -%}
    exported_at desc, _export_date asc, _file_path asc, _line_number asc
{%- endmacro %}

{#-
    The incremental filter every staging model shares: only landing batches this
    model has not seen yet (on a full refresh, `where true`, so the SQL keeps one
    shape in both modes). The batch id is assigned by the ingest step and only
    grows, so a run killed half-way simply sees the same batches again.
-#}
{% macro new_batches_only(keyword='where', column='_batch_id', this_column=none) -%}
    {%- if is_incremental() -%}
        {{ keyword }} {{ column }} > (select coalesce(max({{ this_column or column }}), 0) from {{ this }})
    {%- else -%}
        {{ keyword }} true
    {%- endif -%}
{%- endmacro %}

{#-
    with_existing_rows(relation, key)

    The rows an incremental staging run must choose among: the new rows, plus the
    rows already in the model that share a key with them (so a later, better version
    can replace an older one, and a re-delivery cannot). On a full refresh, just the
    rows. Columns are matched by name, so adding a column never shifts data.
-#}
{% macro with_existing_rows(relation, key) -%}
    {{ return(adapter.dispatch('with_existing_rows', 'chatbot_analytics')(relation, key)) }}
{%- endmacro %}

{#- DuckDB: the existing rows are found in two passes, the keys first, then the whole rows
    by rowid. One pass (`select * ... where key in (...)`) read every column of the whole
    history to keep the few re-delivered rows; a rowid names its row group exactly, so the
    second pass reads only the row groups that hold a match. -#}
{% macro duckdb__with_existing_rows(relation, key) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    union all by name
    select * from {{ this }}
    where rowid in (
        select rowid from {{ this }}
        where ({{ key }}) in (select {{ key }} from {{ relation }})
    )
    {%- endif %}
{%- endmacro %}

{#- Spark (no `union all by name`): the model's own columns, named on both sides. -#}
{% macro spark__with_existing_rows(relation, key) -%}
    {%- if is_incremental() %}
    {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
    select {{ names | join(', ') }} from {{ relation }}
    union all
    select {{ names | join(', ') }} from {{ this }}
    where ({{ key }}) in (select {{ key }} from {{ relation }})
    {%- else %}
    select * from {{ relation }}
    {%- endif %}
{%- endmacro %}
