{#
    Generic data tests of this project (the dbt package hub is unreachable here, so
    they are written in-house). Each returns the failing rows.
#}

{#- shares_sum_to_one: shares add up to 1 (within `tolerance`). `shares` lists
    share columns; with `group_by`, their sum over the rows of each group is
    checked (e.g. intent share per day), else each row on its own (e.g. outcome
    shares in one row). Rows whose shares are all null are ignored. -#}
{% test shares_sum_to_one(model, shares, group_by=none, tolerance=1e-9) %}
    {%- set row_total -%}
        {% for share in shares %}coalesce({{ share }}, 0){% if not loop.last %} + {% endif %}{% endfor %}
    {%- endset -%}
    {%- set any_share -%}
        ({% for share in shares %}{{ share }} is not null{% if not loop.last %} or {% endif %}{% endfor %})
    {%- endset -%}
    {%- if group_by %}
    select {{ group_by | join(', ') }}, sum({{ row_total }}) as share_total
    from {{ model }}
    where {{ any_share }}
    group by {{ group_by | join(', ') }}
    having abs(sum({{ row_total }}) - 1) > {{ tolerance }}
    {%- else %}
    select *, {{ row_total }} as share_total
    from {{ model }}
    where {{ any_share }} and abs({{ row_total }} - 1) > {{ tolerance }}
    {%- endif %}
{% endtest %}

{#- is_raw_table: the column names a raw table of some source (contract v1's entities and
    vars.source_raw_tables, the list the ingest step loads: macro raw_tables). -#}
{% test is_raw_table(model, column_name) %}
    {%- set names = [] -%}
    {%- for table in chatbot_analytics.raw_tables(include_disabled=true) -%}
        {%- do names.append(table.name) -%}
    {%- endfor %}
    select *
    from {{ model }}
    where {{ column_name }} not in ('{{ names | join("', '") }}')
{% endtest %}

{#- not_null_where_carried: the column is not null, except in rows of conversations that
    come from a source system that cannot carry it (`not_carried_by`, e.g. [langfuse, otel]:
    docs/sources/*.md list what each cannot supply, and the marts show null for it, never a
    made-up value). The source of a row is its conversation's `source_system`
    (int_conversations_unioned). With only contract v1 enabled this is `not_null`. -#}
{% test not_null_where_carried(model, column_name, not_carried_by, conversation_key='conversation_id') %}
    select *
    from {{ model }}
    where
        {{ column_name }} is null
        and {{ conversation_key }} not in (
            select conversation_id
            from {{ ref('int_conversations_unioned') }}
            where
                conversation_id is not null
                and source_system in ('{{ not_carried_by | join("', '") }}')
        )
{% endtest %}

{#- model_checks: the per-row properties of one model, checked in one scan (one dbt node
    per model instead of one per column and property; issue 18). Every argument is
    optional:
      unique: [key, ...]            a key is a column or a list of columns; nulls are
                                    ignored for a single column (as dbt's `unique`), a
                                    compound key's rows must be distinct as a whole
      not_null: [column, ...]
      in_unit_interval: [column, ...]   the column, when not null, lies in [0, 1]
      accepted_values: {column: [value, ...]}   nulls pass (as dbt's `accepted_values`)
      expressions: [expression | {expression, where}]   every row (matching `where`)
                                    satisfies the expression; null counts as satisfied
      references: {column: model.field}   every non-null value is a `field` of the model
                                    (as dbt's `relationships`; the ref in the macro body
                                    makes the model a dependency of the test). Only the
                                    parent's rows holding a tested value are read into the
                                    lookup: a nightly tests a day's rows against a parent
                                    of the whole history (fct_turns: 0.92 -> 0.32 s at 90
                                    days, where the lookup held all 7.7 M message ids)
    Returns one row per failed check: `failed_check` (e.g. `not_null(user_id)`) and
    `failing_rows` (rows breaking it; for a key, the rows beyond the first per value). -#}
{% test model_checks(model, unique=[], not_null=[], in_unit_interval=[], accepted_values={}, expressions=[], references={}) %}
    {%- set checks = [] -%}
    {%- for key in unique -%}
        {%- set columns = [key] if key is string else key -%}
        {%- if columns | length == 1 -%}
            {%- set counted = 'count(' ~ columns[0] ~ ') - count(distinct ' ~ columns[0] ~ ')' -%}
        {%- else -%}
            {%- set counted = 'count(*) - count(distinct ' ~ chatbot_analytics.row_value(columns) ~ ')' -%}
        {%- endif -%}
        {%- do checks.append(('unique(' ~ columns | join(', ') ~ ')', counted)) -%}
    {%- endfor -%}
    {%- for column in not_null -%}
        {%- do checks.append(('not_null(' ~ column ~ ')', chatbot_analytics.count_where(column ~ ' is null'))) -%}
    {%- endfor -%}
    {%- for column in in_unit_interval -%}
        {%- do checks.append((
            'in_unit_interval(' ~ column ~ ')',
            chatbot_analytics.count_where(column ~ ' < 0 or ' ~ column ~ ' > 1'),
        )) -%}
    {%- endfor -%}
    {%- for column, values in accepted_values.items() -%}
        {%- set quoted = [] -%}
        {%- for value in values -%}
            {%- if value is sameas true or value is sameas false -%}
                {%- do quoted.append('true' if value else 'false') -%}
            {%- else -%}
                {%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do checks.append((
            'accepted_values(' ~ column ~ ')',
            chatbot_analytics.count_where(column ~ ' not in (' ~ quoted | join(', ') ~ ')'),
        )) -%}
    {%- endfor -%}
    {%- for item in expressions -%}
        {%- set expression = item if item is string else item.expression -%}
        {%- set where = none if item is string else item.get('where') -%}
        {%- set failing = 'not (' ~ expression ~ ')' if where is none else '(' ~ where ~ ') and not (' ~ expression ~ ')' -%}
        {%- do checks.append((
            'expression(' ~ expression ~ (')' if where is none else ' where ' ~ where ~ ')'),
            chatbot_analytics.count_where(failing),
        )) -%}
    {%- endfor -%}
    {%- for column, target in references.items() -%}
        {%- set parent, field = target.split('.') -%}
        {%- do checks.append((
            'references(' ~ column ~ ' -> ' ~ target ~ ')',
            chatbot_analytics.count_where(
                column ~ ' is not null and ' ~ column ~ ' not in (select ' ~ field ~ ' from '
                ~ ref(parent) ~ ' where ' ~ field ~ ' in (select ' ~ column ~ ' from ' ~ model ~ '))'
            ),
        )) -%}
    {%- endfor -%}
    {%- if not checks -%}
        {{ exceptions.raise_compiler_error("model_checks on " ~ model ~ " names no check") }}
    {%- endif %}
    with

    counted as (
        select
            {%- for label, counted in checks %}
            {{ counted }} as check_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}
    ),

    failures as (
        {%- for label, counted in checks %}
        select '{{ label | replace("'", "''") }}' as failed_check, check_{{ loop.index }} as failing_rows
        from counted
        {{ 'union all' if not loop.last }}
        {%- endfor %}
    )

    select * from failures
    where failing_rows > 0
{% endtest %}

{#- Rows of a scan where `condition` holds (null counts as not holding), as an aggregate. -#}
{% macro count_where(condition) -%}
    sum(case when {{ condition }} then 1 else 0 end)
{%- endmacro %}
