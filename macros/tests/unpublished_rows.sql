{#
    Nightly data tests check the rows the night wrote, not the whole history.

    dbt_project.yml sets `where: "__unpublished_batches__"` on every data test of the
    project; get_where_subquery (dbt's hook that wraps the tested model) replaces the
    placeholder with `<batch column> > <last published batch>` when the model documents
    a batch column (`_processed_batch_id`, `_batch_id` or `batch_id`): rows of batches
    the runner has not yet published, i.e. every row this build (and any earlier,
    unpublished one) wrote. The runner records the published batch in
    `chatbatch.published` after each publish. The filter is off (full coverage) on a
    full refresh, in a backfill, for models without a batch column, and where that
    state table does not exist (a plain `dbt build`).
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__unpublished_batches__' in where -%}
        {%- set where = where | replace(
            '__unpublished_batches__',
            chatbot_analytics.unpublished_batches_filter(relation) or 'true'
        ) -%}
    {%- endif -%}
    {%- if where and where | trim != 'true' -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{#- The predicate selecting a relation's unpublished rows, or none (test every row). -#}
{% macro unpublished_batches_filter(relation) -%}
    {%- if not execute or flags.FULL_REFRESH or var('backfill_start', none) is not none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set state = adapter.get_relation(
        database=relation.database, schema='chatbatch', identifier='published'
    ) -%}
    {%- if state is none -%}
        {{ return(none) }}
    {%- endif -%}
    {#- the model's documented columns (no catalog query per test) -#}
    {%- set names = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.alias == relation.identifier
            and node.schema == relation.schema -%}
            {%- do names.extend(node.columns.keys() | map('lower')) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for column in ['_processed_batch_id', '_batch_id', 'batch_id'] -%}
        {%- if column in names -%}
            {{ return(column ~ ' > (select coalesce(max(batch_id), 0) from ' ~ state ~ ')') }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#- In a singular test: the relation's unpublished rows (all rows when the filter is off). -#}
{% macro unpublished_rows(relation) -%}
    {%- set predicate = chatbot_analytics.unpublished_batches_filter(relation) -%}
    {%- if predicate -%}
        (select * from {{ relation }} where {{ predicate }})
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
