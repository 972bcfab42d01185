{#
    Engine-specific SQL of the analytics layers (intermediate and marts). Models call
    these macros only; each has a `default__` (ANSI / Spark friendly) and, where DuckDB
    differs or does better, a `duckdb__` implementation.
#}

{#- Milliseconds from `start_at` to `end_at` (both timestamps), as a bigint. -#}
{% macro milliseconds_between(start_at, end_at) -%}
    {{ return(adapter.dispatch('milliseconds_between', 'chatbot_analytics')(start_at, end_at)) }}
{%- endmacro %}

{% macro default__milliseconds_between(start_at, end_at) -%}
    cast({{ dbt.datediff(start_at, end_at, 'millisecond') }} as bigint)
{%- endmacro %}

{% macro duckdb__milliseconds_between(start_at, end_at) -%}
    (epoch_ms({{ end_at }}) - epoch_ms({{ start_at }}))
{%- endmacro %}

{% macro spark__milliseconds_between(start_at, end_at) -%}
    (unix_millis({{ end_at }}) - unix_millis({{ start_at }}))
{%- endmacro %}

{#- Seconds from `start_at` to `end_at`, as a double (fractions kept). -#}
{% macro seconds_between(start_at, end_at) -%}
    {{ return(adapter.dispatch('seconds_between', 'chatbot_analytics')(start_at, end_at)) }}
{%- endmacro %}

{% macro default__seconds_between(start_at, end_at) -%}
    (cast({{ chatbot_analytics.milliseconds_between(start_at, end_at) }} as double) / 1000.0)
{%- endmacro %}

{#- `timestamp_at` shifted by a number of hours (a var or literal). -#}
{% macro add_hours(timestamp_at, hours) -%}
    {{ return(adapter.dispatch('add_hours', 'chatbot_analytics')(timestamp_at, hours)) }}
{%- endmacro %}

{% macro default__add_hours(timestamp_at, hours) -%}
    {{ dbt.dateadd('hour', hours, timestamp_at) }}
{%- endmacro %}

{% macro duckdb__add_hours(timestamp_at, hours) -%}
    ({{ timestamp_at }} + to_hours(cast({{ hours }} as bigint)))
{%- endmacro %}

{% macro spark__add_hours(timestamp_at, hours) -%}
    timestampadd(hour, cast({{ hours }} as bigint), {{ timestamp_at }})
{%- endmacro %}

{#- The date `days` days after `date_day` (days may be a column). -#}
{% macro add_days(date_day, days) -%}
    {{ return(adapter.dispatch('add_days', 'chatbot_analytics')(date_day, days)) }}
{%- endmacro %}

{% macro default__add_days(date_day, days) -%}
    cast({{ dbt.dateadd('day', days, date_day) }} as date)
{%- endmacro %}

{% macro duckdb__add_days(date_day, days) -%}
    cast({{ date_day }} + cast({{ days }} as integer) as date)
{%- endmacro %}

{% macro spark__add_days(date_day, days) -%}
    date_add({{ date_day }}, cast({{ days }} as integer))
{%- endmacro %}

{#- The UTC calendar date of a (UTC) timestamp. -#}
{% macro utc_date(timestamp_at) -%}
    {{ return(adapter.dispatch('utc_date', 'chatbot_analytics')(timestamp_at)) }}
{%- endmacro %}

{% macro default__utc_date(timestamp_at) -%}
    cast({{ timestamp_at }} as date)
{%- endmacro %}

{#- Monday of the ISO week of a date. -#}
{% macro iso_week_start(date_day) -%}
    {{ return(adapter.dispatch('iso_week_start', 'chatbot_analytics')(date_day)) }}
{%- endmacro %}

{% macro default__iso_week_start(date_day) -%}
    cast({{ dbt.date_trunc('week', date_day) }} as date)
{%- endmacro %}

{#- ISO day of week, Monday = 1 .. Sunday = 7. -#}
{% macro iso_day_of_week(date_day) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'chatbot_analytics')(date_day)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_day) -%}
    cast(extract(isodow from {{ date_day }}) as integer)
{%- endmacro %}

{% macro spark__iso_day_of_week(date_day) -%}
    cast(((dayofweek({{ date_day }}) + 5) % 7) + 1 as integer)
{%- endmacro %}

{#- ISO week-numbering year and week number. -#}
{% macro iso_year(date_day) -%}
    {{ return(adapter.dispatch('iso_year', 'chatbot_analytics')(date_day)) }}
{%- endmacro %}

{% macro default__iso_year(date_day) -%}
    cast(extract(isoyear from {{ date_day }}) as integer)
{%- endmacro %}

{% macro spark__iso_year(date_day) -%}
    cast(extract(yearofweek from {{ date_day }}) as integer)
{%- endmacro %}

{% macro iso_week_number(date_day) -%}
    {{ return(adapter.dispatch('iso_week_number', 'chatbot_analytics')(date_day)) }}
{%- endmacro %}

{% macro default__iso_week_number(date_day) -%}
    cast(extract(week from {{ date_day }}) as integer)
{%- endmacro %}

{#- Exact, deterministic percentiles by linear interpolation between the two closest
    ranks (the SQL `percentile_cont`, numpy's default `linear` method), as an array in
    the order of `fractions`. One aggregate state for all the fractions: the engine keeps
    the group's values once, not once per percentile. Nulls ignored; null when the
    group has no value. Take the elements with array_element, or use
    percentile_cont_columns. -#}
{% macro percentiles_cont(column, fractions) -%}
    {{ return(adapter.dispatch('percentiles_cont', 'chatbot_analytics')(column, fractions)) }}
{%- endmacro %}

{% macro default__percentiles_cont(column, fractions) -%}
    percentile_cont(array[{{ fractions | join(', ') }}]) within group (order by {{ column }})
{%- endmacro %}

{% macro duckdb__percentiles_cont(column, fractions) -%}
    quantile_cont({{ column }}, [{{ fractions | join(', ') }}])
{%- endmacro %}

{% macro spark__percentiles_cont(column, fractions) -%}
    percentile({{ column }}, array({{ fractions | join(', ') }}))
{%- endmacro %}

{#- Aggregate select-list columns `<name> = <fraction>-percentile of column`, one per
    entry of `percentiles` (a mapping of column name to fraction), all from one
    percentiles_cont state (the engines compute an aggregate repeated verbatim once). -#}
{% macro percentile_cont_columns(column, percentiles) -%}
    {%- set fractions = percentiles.values() | list -%}
    {%- for name in percentiles %}
        {{ chatbot_analytics.array_element(chatbot_analytics.percentiles_cont(column, fractions), loop.index) }}
            as {{ name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- numerator / denominator as a double; null when the denominator is 0 or null. -#}
{% macro safe_ratio(numerator, denominator) -%}
    {{ return(adapter.dispatch('safe_ratio', 'chatbot_analytics')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__safe_ratio(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}

{#- Text normalised for equality checks (case and surrounding blanks ignored,
    inner runs of whitespace collapsed). -#}
{% macro normalize_text(column) -%}
    {{ return(adapter.dispatch('normalize_text', 'chatbot_analytics')(column)) }}
{%- endmacro %}

{% macro default__normalize_text(column) -%}
    lower(trim(regexp_replace({{ column }}, '\\s+', ' ')))
{%- endmacro %}

{% macro duckdb__normalize_text(column) -%}
    lower(trim(regexp_replace({{ column }}, '\s+', ' ', 'g')))
{%- endmacro %}

{#- Number of elements of an array column (0 for an empty array, null for null). -#}
{% macro array_length(column) -%}
    {{ return(adapter.dispatch('array_length', 'chatbot_analytics')(column)) }}
{%- endmacro %}

{% macro default__array_length(column) -%}
    cardinality({{ column }})
{%- endmacro %}

{% macro duckdb__array_length(column) -%}
    len({{ column }})
{%- endmacro %}

{% macro spark__array_length(column) -%}
    {#- size(null) is -1 in Spark's non-ANSI mode -#}
    case when {{ column }} is not null then size({{ column }}) end
{%- endmacro %}

{#- Small integers 0 .. 10^digits - 1 as a relation body with one column `n`
    (portable, no generate_series). -#}
{% macro integer_sequence(digits) -%}
    {{ return(adapter.dispatch('integer_sequence', 'chatbot_analytics')(digits)) }}
{%- endmacro %}

{% macro default__integer_sequence(digits) -%}
    select
        {% for i in range(digits) -%}
            d{{ i }}.digit * {{ 10 ** i }}{% if not loop.last %} + {% endif %}
        {%- endfor %} as n
    from
        {% for i in range(digits) -%}
            (
                select 0 as digit union all select 1 union all select 2 union all select 3
                union all select 4 union all select 5 union all select 6 union all select 7
                union all select 8 union all select 9
            ) as d{{ i }}{% if not loop.last %} cross join {% endif %}
        {%- endfor %}
{%- endmacro %}

{#- The element at 1-based `position` of an array column (null past its end). -#}
{% macro array_element(column, position) -%}
    {{ return(adapter.dispatch('array_element', 'chatbot_analytics')(column, position)) }}
{%- endmacro %}

{% macro default__array_element(column, position) -%}
    {{ column }}[{{ position }}]
{%- endmacro %}

{% macro spark__array_element(column, position) -%}
    element_at({{ column }}, {{ position }})
{%- endmacro %}

{#- Whole days from `start_date` to `end_date` (both dates), as an integer. -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'chatbot_analytics')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    cast({{ dbt.datediff(start_date, end_date, 'day') }} as integer)
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    cast({{ end_date }} - {{ start_date }} as integer)
{%- endmacro %}

{#- One value standing for several columns together (a compound key), for count(distinct). -#}
{% macro row_value(columns) -%}
    {{ return(adapter.dispatch('row_value', 'chatbot_analytics')(columns)) }}
{%- endmacro %}

{% macro default__row_value(columns) -%}
    struct({{ columns | join(', ') }})
{%- endmacro %}

{% macro duckdb__row_value(columns) -%}
    row({{ columns | join(', ') }})
{%- endmacro %}
