with

tool_calls as (

    select * from {{ ref('fct_tool_calls') }}
    {{ changed_days_only(ref('fct_tool_calls')) }}

),

tool_stats as (

    select
        conversation_date,
        tool_name,
        count(*) as tool_calls,
        count(case when is_failed then tool_call_id end) as failed_tool_calls,
        count(distinct conversation_id) as conversations,
        avg(tool_duration_ms) as duration_avg_ms,
        {{ percentile_cont('tool_duration_ms', 0.5) }} as duration_p50_ms,
        {{ percentile_cont('tool_duration_ms', 0.95) }} as duration_p95_ms

    from tool_calls
    group by 1, 2

),

final as (

    select
        -- grain
        conversation_date,
        tool_name,

        -- numerics
        cast(tool_calls as bigint) as tool_calls,
        cast(failed_tool_calls as bigint) as failed_tool_calls,
        cast(conversations as bigint) as conversations,
        cast({{ safe_ratio('failed_tool_calls', 'tool_calls') }} as double) as failure_rate,
        cast(duration_avg_ms as double) as duration_avg_ms,
        cast(duration_p50_ms as double) as duration_p50_ms,
        cast(duration_p95_ms as double) as duration_p95_ms,

        -- lineage
        {{ processed_batch_of(ref('fct_tool_calls')) }} as _processed_batch_id

    from tool_stats

)

select * from final
