with

conversations as (

    select * from {{ ref('int_conversations_aggregated') }}

),

latest_versions as (

    select
        bot_id,
        bot_version,
        row_number() over (
            partition by bot_id
            order by started_at desc, conversation_id desc
        ) as recency_rank

    from conversations
    where bot_version is not null

),

bot_stats as (

    select
        bot_id,
        count(*) as conversation_count,
        count(distinct bot_version) as bot_version_count,
        count(distinct channel) as channel_count,
        min(started_at) as first_conversation_at,
        max(started_at) as last_conversation_at

    from conversations
    group by 1

),

final as (

    select
        -- ids
        bot_stats.bot_id,

        -- strings
        latest_versions.bot_version as latest_bot_version,

        -- numerics
        cast(bot_stats.conversation_count as integer) as conversation_count,
        cast(bot_stats.bot_version_count as integer) as bot_version_count,
        cast(bot_stats.channel_count as integer) as channel_count,

        -- timestamps (UTC)
        bot_stats.first_conversation_at,
        bot_stats.last_conversation_at

    from bot_stats
    left join latest_versions
        on
            bot_stats.bot_id = latest_versions.bot_id
            and latest_versions.recency_rank = 1

)

select * from final
