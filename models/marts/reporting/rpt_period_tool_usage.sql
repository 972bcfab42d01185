{{ config(unique_key=['period_kind', 'period_start_date']) }}

with

period_calendar as (

    {{ report_period_calendar(ref('fct_tool_calls')) }}

),

tool_calls as (

    select
        period_calendar.period_kind,
        period_calendar.period_start_date,
        period_calendar.period_days,
        facts.*
    from period_calendar
    inner join {{ ref('fct_tool_calls') }} as facts
        on period_calendar.conversation_date = facts.conversation_date

),

tool_stats as (

    select
        period_kind,
        period_start_date,
        period_days,
        tool_name,
        {{ tool_usage_counts() }}

    from tool_calls
    group by 1, 2, 3, 4

),

final as (

    select
        -- grain
        cast(period_kind as {{ dbt.type_string() }}) as period_kind,
        period_start_date,
        {{ report_period_end() }} as period_end_date,
        {{ report_period_is_iso_week() }} as is_iso_week,
        tool_name,

        -- numerics
        {{ tool_usage_columns() }},

        -- lineage
        {{ processed_batch_of(ref('fct_tool_calls')) }} as _processed_batch_id

    from tool_stats

)

select * from final
