{#
    The periods of the nightly report's marts (rpt_period_performance,
    rpt_period_tool_usage): every day ('day') and every 7-day window ('7_days', keyed
    by its first day). See the docs block `report_periods`.
#}

{#- A relation body listing the days of the periods this run recomputes: columns
    period_kind, period_start_date, period_days (1 or 7) and conversation_date (one of
    its days). The periods are those holding a day with rows of `fact_relation` written
    after this model's watermark (changed_days_only): the day itself and the seven
    windows around it; on a full refresh, every period holding a day with rows. Join
    the facts on conversation_date to get each period's rows. -#}
{% macro report_period_calendar(fact_relation) -%}
    {%- set day_offsets -%}
        (
            select n as day_offset
            from ({{ chatbot_analytics.integer_sequence(1) }}) as digits
            where n < 7
        )
    {%- endset -%}
    {%- set changed_days -%}
        (
            select distinct conversation_date as changed_day
            from {{ fact_relation }}
            {{ chatbot_analytics.changed_days_only(fact_relation) }}
        )
    {%- endset -%}
    select
        periods.period_kind,
        periods.period_start_date,
        periods.period_days,
        {{ chatbot_analytics.add_days('periods.period_start_date', 'day_offsets.day_offset') }}
            as conversation_date
    from (
        select
            'day' as period_kind,
            changed_days.changed_day as period_start_date,
            1 as period_days
        from {{ changed_days }} as changed_days

        union all

        select distinct
            '7_days' as period_kind,
            {{ chatbot_analytics.add_days('changed_days.changed_day', '-day_offsets.day_offset') }}
                as period_start_date,
            7 as period_days
        from {{ changed_days }} as changed_days
        cross join {{ day_offsets }} as day_offsets
    ) as periods
    inner join {{ day_offsets }} as day_offsets
        on day_offsets.day_offset < periods.period_days
{%- endmacro %}

{#- A report period's last day, from the grain columns of report_period_calendar. -#}
{% macro report_period_end(start_date='period_start_date', days='period_days') -%}
    {{ chatbot_analytics.add_days(start_date, days ~ ' - 1') }}
{%- endmacro %}

{#- True for the 7-day windows that are an ISO week (they start on a Monday). -#}
{% macro report_period_is_iso_week(kind='period_kind', start_date='period_start_date') -%}
    ({{ kind }} = '7_days' and {{ chatbot_analytics.iso_day_of_week(start_date) }} = 1)
{%- endmacro %}
