-- Per day, rpt_daily_performance adds up to fct_conversations (conversations, engaged,
-- outcomes, cost) and rpt_weekly_performance to the days of its week.
with

conversations as (

    select * from {{ ref('fct_conversations') }}

),

daily as (

    select * from {{ ref('rpt_daily_performance') }}

),

weekly as (

    select * from {{ ref('rpt_weekly_performance') }}

),

fact_days as (

    select
        conversation_date,
        count(*) as conversations,
        count(case when is_engaged then conversation_id end) as engaged_conversations,
        count(case when outcome = 'escalated' then conversation_id end)
            as escalated_conversations,
        coalesce(sum(cost_usd), 0) as cost_usd

    from conversations
    group by 1

),

report_days as (

    select
        conversation_date,
        {{ iso_week_start('conversation_date') }} as iso_week_start_date,
        sum(conversations) as conversations,
        sum(engaged_conversations) as engaged_conversations,
        sum(escalated_conversations) as escalated_conversations,
        coalesce(sum(cost_usd), 0) as cost_usd

    from daily
    group by 1, 2

),

report_weeks as (

    select
        iso_week_start_date,
        sum(conversations) as conversations

    from weekly
    group by 1

),

days_of_weeks as (

    select
        iso_week_start_date,
        sum(conversations) as conversations

    from report_days
    group by 1

),

day_mismatches as (

    select
        'day' as check_level,
        cast(
            coalesce(fact_days.conversation_date, report_days.conversation_date)
            as {{ dbt.type_string() }}
        ) as period_key

    from fact_days
    full outer join report_days
        on fact_days.conversation_date = report_days.conversation_date
    where
        fact_days.conversation_date is null
        or report_days.conversation_date is null
        or fact_days.conversations != report_days.conversations
        or fact_days.engaged_conversations != report_days.engaged_conversations
        or fact_days.escalated_conversations != report_days.escalated_conversations
        or abs(fact_days.cost_usd - report_days.cost_usd) > 1e-9

),

week_mismatches as (

    select
        'week' as check_level,
        cast(
            coalesce(report_weeks.iso_week_start_date, days_of_weeks.iso_week_start_date)
            as {{ dbt.type_string() }}
        ) as period_key

    from report_weeks
    full outer join days_of_weeks
        on report_weeks.iso_week_start_date = days_of_weeks.iso_week_start_date
    where
        report_weeks.iso_week_start_date is null
        or days_of_weeks.iso_week_start_date is null
        or report_weeks.conversations != days_of_weeks.conversations

)

select * from day_mismatches
union all
select * from week_mismatches
