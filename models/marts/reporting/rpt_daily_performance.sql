with

conversations as (

    select * from {{ ref('fct_conversations') }}
    {{ changed_days_only(ref('fct_conversations')) }}

),

turns as (

    select * from {{ ref('fct_turns') }}
    {{ changed_days_only(ref('fct_conversations')) }}

),

conversation_counts as (

    select
        conversation_date,
        coalesce(channel, 'unknown') as channel,
        bot_id,
        coalesce(bot_version, 'unknown') as bot_version,
        {{ performance_counts() }}

    from conversations
    group by 1, 2, 3, 4

),

latency_percentiles as (

    select
        conversation_date,
        coalesce(channel, 'unknown') as channel,
        bot_id,
        coalesce(bot_version, 'unknown') as bot_version,
        {{ latency_percentiles() }}

    from turns
    where response_latency_ms is not null
    group by 1, 2, 3, 4

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
            conversation_counts.conversation_date = latency_percentiles.conversation_date
            and conversation_counts.channel = latency_percentiles.channel
            and conversation_counts.bot_id = latency_percentiles.bot_id
            and conversation_counts.bot_version = latency_percentiles.bot_version

),

final as (

    select
        -- grain
        conversation_date,
        channel,
        bot_id,
        bot_version,
        {{ performance_columns() }},

        -- lineage
        {{ processed_batch_of(ref('fct_conversations')) }} as _processed_batch_id

    from rates

)

select * from final
