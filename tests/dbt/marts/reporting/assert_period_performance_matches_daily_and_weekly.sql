-- rpt_period_performance (all channels and bots together) agrees with the reports per
-- channel × bot × bot version where they overlap: a `day` row's counts and cost are the
-- sums of rpt_daily_performance's rows of that day, an ISO-week row's those of
-- rpt_weekly_performance's rows of that week; each has a row where the other has one.
{%- set counts = [
    'conversations', 'engaged_conversations', 'resolved_confirmed_conversations',
    'resolved_implied_conversations', 'escalated_conversations', 'abandoned_conversations',
    'unengaged_conversations', 'messages', 'assistant_messages', 'fallback_events',
    'csat_responses', 'thumbs_up', 'thumbs_down', 'answered_turns',
] %}
with

periods as (

    select * from {{ ref('rpt_period_performance') }}

),

daily as (

    select * from {{ ref('rpt_daily_performance') }}

),

weekly as (

    select * from {{ ref('rpt_weekly_performance') }}

),

channel_sums as (

    select
        'day' as period_kind,
        conversation_date as period_start_date,
        {%- for column in counts %}
        sum({{ column }}) as {{ column }},
        {%- endfor %}
        coalesce(sum(cost_usd), 0) as cost_usd

    from daily
    group by 1, 2

    union all

    select
        '7_days' as period_kind,
        iso_week_start_date as period_start_date,
        {%- for column in counts %}
        sum({{ column }}) as {{ column }},
        {%- endfor %}
        coalesce(sum(cost_usd), 0) as cost_usd

    from weekly
    group by 1, 2

),

overlapping_periods as (

    select * from periods
    where period_kind = 'day' or is_iso_week

),

mismatches as (

    select
        coalesce(overlapping_periods.period_kind, channel_sums.period_kind) as period_kind,
        coalesce(overlapping_periods.period_start_date, channel_sums.period_start_date)
            as period_start_date

    from overlapping_periods
    full outer join channel_sums
        on
            overlapping_periods.period_kind = channel_sums.period_kind
            and overlapping_periods.period_start_date = channel_sums.period_start_date
    where
        overlapping_periods.period_kind is null
        or channel_sums.period_kind is null
        {%- for column in counts %}
        or overlapping_periods.{{ column }} != channel_sums.{{ column }}
        {%- endfor %}
        or abs(coalesce(overlapping_periods.cost_usd, 0) - channel_sums.cost_usd) > 1e-9

)

select * from mismatches
