{#
    The source seam (issue 14). Which source systems a home reads is the var `sources`
    (a list; default ['chatbot'] in dbt_project.yml; the runner passes what
    $CHATBATCH_HOME/sources.yml enables). Every source maps into the contract v1
    entities; the `int_<entity>s_unioned` views put them side by side.
#}

{#- The enabled source systems, validated. -#}
{% macro enabled_sources() -%}
    {%- set known = ['chatbot', 'langfuse', 'otel'] -%}
    {%- set enabled = var('sources', ['chatbot']) -%}
    {%- if enabled is string -%}
        {%- set enabled = [enabled] -%}
    {%- endif -%}
    {%- for name in enabled if name not in known -%}
        {{ exceptions.raise_compiler_error("var sources: unknown source '" ~ name ~ "' (known: " ~ known | join(', ') ~ ")") }}
    {%- endfor -%}
    {{ return(enabled | list) }}
{%- endmacro %}

{#- True when the source system `name` is enabled (used in dbt_project.yml `+enabled`). -#}
{% macro source_enabled(name) -%}
    {{ return(name in chatbot_analytics.enabled_sources()) }}
{%- endmacro %}

{#-
    union_entity(entity, extra_columns={})

    The body of int_<entity>_unioned: stg_chatbot__<entity> plus the mapped model of each
    other enabled source (int_<entity>_mapped_from_<source>), matched by column name,
    with a `source_system` column. `extra_columns` ({name: sql type}) are columns that
    contract v1 cannot carry: null on the chatbot branch.
-#}
{% macro union_entity(entity, extra_columns={}) -%}
    {%- set branches = [] -%}
    {%- for source_name in chatbot_analytics.enabled_sources() -%}
        {%- if source_name == 'chatbot' -%}
            {%- set relation = ref('stg_chatbot__' ~ entity) -%}
            {%- set nulls = extra_columns -%}
        {%- else -%}
            {%- set relation = ref('int_' ~ entity ~ '_mapped_from_' ~ source_name) -%}
            {%- set nulls = {} -%}
        {%- endif -%}
        {%- do branches.append({'source_system': source_name, 'relation': relation, 'nulls': nulls}) -%}
    {%- endfor -%}
    {{ return(adapter.dispatch('union_entity', 'chatbot_analytics')(branches)) }}
{%- endmacro %}

{#- A mapped model's own watermark (`_processed_batch_id`, changed_traces.sql) stays behind:
    the models after the seam keep theirs under that name. -#}
{% macro duckdb__union_entity(branches) -%}
    {%- for branch in branches %}
    select
        {{ '*' if branch.source_system == 'chatbot' else "columns(lambda name: name != '_processed_batch_id')" }},
        {%- for name, data_type in branch.nulls.items() %}
        cast(null as {{ data_type }}) as {{ name }},
        {%- endfor %}
        '{{ branch.source_system }}' as source_system
    from {{ branch.relation }}
    {%- if not loop.last %}
    union all by name
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- Spark (no `union all by name`): the union of the branches' column names, in the
    order they first appear; a branch lacking a column gives null for it. -#}
{% macro spark__union_entity(branches) -%}
    {%- set names = [] -%}
    {%- set per_branch = [] -%}
    {%- for branch in branches -%}
        {%- set own = [] -%}
        {%- if execute -%}
            {%- for column in adapter.get_columns_in_relation(branch.relation) -%}
                {%- do own.append(column.name) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- for name in branch.nulls -%}
            {%- do own.append(name) -%}
        {%- endfor -%}
        {%- for name in own if name not in names -%}
            {%- do names.append(name) -%}
        {%- endfor -%}
        {%- do per_branch.append(own) -%}
    {%- endfor -%}
    {%- for branch in branches %}
    {%- set own = per_branch[loop.index0] %}
    select
        {%- for name in names %}
        {%- if name in branch.nulls %}
        cast(null as {{ branch.nulls[name] }}) as {{ name }},
        {%- elif name in own %}
        {{ name }},
        {%- else %}
        null as {{ name }},
        {%- endif %}
        {%- endfor %}
        '{{ branch.source_system }}' as source_system
    from {{ branch.relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#-
    raw_tables()

    The raw tables of the enabled sources, each with its base model (one row per raw line)
    and the staging model holding its loaded records (none when a loaded line is not one
    record: a manifest, an OTLP message of many spans), read from the contract's entities
    and vars.source_raw_tables: the one list, which chatbatch.contract.sources reads too.
    The audit models iterate over it; include_disabled adds the sources not enabled.
-#}
{% macro raw_tables(include_disabled=false) -%}
    {%- set tables = [] -%}
    {%- set enabled = chatbot_analytics.enabled_sources() -%}
    {%- if include_disabled or 'chatbot' in enabled -%}
        {%- for entity in var('export_contract') -%}
            {%- do tables.append({'source': 'chatbot', 'name': entity, 'base': 'base_chatbot__' ~ entity, 'stg': 'stg_chatbot__' ~ entity}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for source, source_tables in var('source_raw_tables').items() -%}
        {%- if include_disabled or source in enabled -%}
            {%- for table in source_tables -%}
                {%- do tables.append({'source': source, 'name': table.name, 'base': table.base, 'stg': table.get('stg')}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(tables) }}
{%- endmacro %}
