{#
    Generic data tests of this project (the dbt package hub is unreachable here, so
    they are written in-house). Each returns the failing rows.
#}

{#- expression_is_true: every row satisfies `expression` (optionally only rows
    matching `where`). -#}
{% test expression_is_true(model, expression, where=none) %}
    select *
    from {{ model }}
    where not ({{ expression }})
    {%- if where %}
        and ({{ where }})
    {%- endif %}
{% endtest %}

{#- rate_in_unit_interval: the column, when not null, lies in [0, 1]. -#}
{% test rate_in_unit_interval(model, column_name) %}
    select *
    from {{ model }}
    where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}

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

{#- unique_combination: the columns together identify a row. -#}
{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
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
