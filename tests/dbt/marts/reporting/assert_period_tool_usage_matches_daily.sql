-- rpt_period_tool_usage's `day` rows are rpt_tool_usage's rows (same calls, failures and
-- conversations per day and tool), and each has a row where the other has one.
with

periods as (

    select * from {{ ref('rpt_period_tool_usage') }}
    where period_kind = 'day'

),

daily as (

    select * from {{ ref('rpt_tool_usage') }}

),

mismatches as (

    select
        coalesce(periods.period_start_date, daily.conversation_date) as conversation_date,
        coalesce(periods.tool_name, daily.tool_name) as tool_name

    from periods
    full outer join daily
        on
            periods.period_start_date = daily.conversation_date
            and periods.tool_name = daily.tool_name
    where
        periods.tool_name is null
        or daily.tool_name is null
        or periods.tool_calls != daily.tool_calls
        or periods.failed_tool_calls != daily.failed_tool_calls
        or periods.conversations != daily.conversations

)

select * from mismatches
