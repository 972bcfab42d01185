{{ config(unique_key=['period_kind', 'period_start_date']) }}

with

period_calendar as (

    {{ report_period_calendar(ref('fct_conversations')) }}

),

conversations as (

    select
        period_calendar.period_kind,
        period_calendar.period_start_date,
        period_calendar.period_days,
        facts.*
    from period_calendar
    inner join {{ ref('fct_conversations') }} as facts
        on period_calendar.conversation_date = facts.conversation_date

),

turns as (

    select
        period_calendar.period_kind,
        period_calendar.period_start_date,
        facts.response_latency_ms
    from period_calendar
    inner join {{ ref('fct_turns') }} as facts
        on period_calendar.conversation_date = facts.conversation_date
    where facts.response_latency_ms is not null

),

conversation_counts as (

    select
        period_kind,
        period_start_date,
        period_days,
        {{ performance_counts() }}

    from conversations
    group by 1, 2, 3

),

latency_percentiles as (

    select
        period_kind,
        period_start_date,
        {{ latency_percentiles() }}

    from turns
    group by 1, 2

),

rates as (

    select
        conversation_counts.*,
        latency_percentiles.answered_turns,
        latency_percentiles.latency_p50_ms,
        latency_percentiles.latency_p95_ms,
        latency_percentiles.latency_p99_ms,
        {{ performance_rates() }}

    from conversation_counts
    left join latency_percentiles
        on
            conversation_counts.period_kind = latency_percentiles.period_kind
            and conversation_counts.period_start_date = latency_percentiles.period_start_date

),

final as (

    select
        -- grain
        cast(period_kind as {{ dbt.type_string() }}) as period_kind,
        period_start_date,
        {{ report_period_end() }} as period_end_date,
        {{ report_period_is_iso_week() }} as is_iso_week,
        {{ performance_columns() }},

        -- lineage
        {{ processed_batch_of(ref('fct_conversations')) }} as _processed_batch_id

    from rates

)

select * from final
