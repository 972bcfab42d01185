with

tool_calls as (

    select * from {{ ref('fct_tool_calls') }}
    {{ changed_days_only(ref('fct_tool_calls')) }}

),

tool_stats as (

    select
        conversation_date,
        tool_name,
        {{ tool_usage_counts() }}

    from tool_calls
    group by 1, 2

),

final as (

    select
        -- grain
        conversation_date,
        tool_name,

        -- numerics
        {{ tool_usage_columns() }},

        -- lineage
        {{ processed_batch_of(ref('fct_tool_calls')) }} as _processed_batch_id

    from tool_stats

)

select * from final
