{#-
    Point-in-time user features. A row holds the features as of the end of
    `as_of_date` and stays valid until `valid_to` (null: still current). Rows exist
    only on the days a feature can change: a conversation day, the days a
    conversation leaves the 7-day and 28-day windows (day + 7, day + 28) and the
    days a CSAT rating arrives. Between two rows every feature is constant except
    days_since_last_conversation, which grows by one a day (as_of - last_conversation_date).
    Every value is computed from conversations started and ratings submitted on or
    before as_of_date: nothing after it. Rows are recomputed per user whose
    conversations changed (delete+insert on user_id).
-#}

with

fct_conversations as (

    select * from {{ ref('fct_conversations') }}
    {{ changed_users_only(ref('fct_conversations')) }}

),

feedback as (

    select * from {{ ref('int_feedback_unioned') }}
    where
        feedback_kind = 'csat'
        and feedback_value is not null

),

conversations as (

    select * from fct_conversations
    where user_id is not null

),

ratings as (

    select
        conversations.user_id,
        feedback.feedback_value,
        {{ utc_date('feedback.submitted_at') }} as rating_date

    from feedback
    inner join conversations
        on feedback.conversation_id = conversations.conversation_id

),

change_days as (

    select
        user_id,
        conversation_date as as_of_date
    from conversations

    union

    -- the day a conversation leaves the 7-day window
    select
        user_id,
        {{ add_days('conversation_date', 7) }} as as_of_date
    from conversations

    union

    -- the day a conversation leaves the 28-day window
    select
        user_id,
        {{ add_days('conversation_date', 28) }} as as_of_date
    from conversations

    union

    select
        user_id,
        rating_date as as_of_date
    from ratings

),

history as (

    select
        change_days.user_id,
        change_days.as_of_date,
        conversations.conversation_id,
        conversations.conversation_date,
        conversations.channel,
        conversations.locale,
        conversations.main_intent,
        conversations.is_escalated,
        conversations.started_at,
        conversations.conversation_date
        > {{ add_days('change_days.as_of_date', -7) }} as is_in_7d,
        conversations.conversation_date
        > {{ add_days('change_days.as_of_date', -28) }} as is_in_28d

    from change_days
    inner join conversations
        on
            change_days.user_id = conversations.user_id
            and change_days.as_of_date >= conversations.conversation_date

),

window_stats as (

    select
        user_id,
        as_of_date,
        count(*) as conversations_to_date,
        count(case when is_in_7d then conversation_id end) as conversations_7d,
        count(case when is_in_28d then conversation_id end) as conversations_28d,
        count(case when is_in_28d and is_escalated then conversation_id end)
            as escalated_conversations_28d,
        max(conversation_date) as last_conversation_date

    from history
    group by 1, 2

),

last_intents as (

    select
        user_id,
        as_of_date,
        main_intent,
        row_number() over (
            partition by user_id, as_of_date
            order by started_at desc, conversation_id desc
        ) as recency_rank

    from history
    where main_intent is not null

),

channel_counts as (

    select
        user_id,
        as_of_date,
        channel,
        count(*) as channel_conversations,
        max(started_at) as last_started_at

    from history
    where channel is not null
    group by 1, 2, 3

),

preferred_channels as (

    select
        *,
        row_number() over (
            partition by user_id, as_of_date
            order by channel_conversations desc, last_started_at desc, channel asc
        ) as preference_rank

    from channel_counts

),

locale_counts as (

    select
        user_id,
        as_of_date,
        locale,
        count(*) as locale_conversations,
        max(started_at) as last_started_at

    from history
    where locale is not null
    group by 1, 2, 3

),

preferred_locales as (

    select
        *,
        row_number() over (
            partition by user_id, as_of_date
            order by locale_conversations desc, last_started_at desc, locale asc
        ) as preference_rank

    from locale_counts

),

csat_stats as (

    select
        change_days.user_id,
        change_days.as_of_date,
        avg(ratings.feedback_value) as csat_avg,
        count(*) as csat_ratings

    from change_days
    inner join ratings
        on
            change_days.user_id = ratings.user_id
            and change_days.as_of_date >= ratings.rating_date
    group by 1, 2

),

features as (

    select
        window_stats.user_id,
        window_stats.as_of_date,
        preferred_channels.channel as preferred_channel,
        preferred_locales.locale as preferred_locale,
        last_intents.main_intent as last_intent,
        window_stats.conversations_to_date,
        window_stats.conversations_7d,
        window_stats.conversations_28d,
        {{ safe_ratio(
            'window_stats.escalated_conversations_28d', 'window_stats.conversations_28d'
        ) }} as escalation_rate_28d,
        csat_stats.csat_avg,
        coalesce(csat_stats.csat_ratings, 0) as csat_ratings,
        {{ days_between('window_stats.last_conversation_date', 'window_stats.as_of_date') }}
            as days_since_last_conversation,
        window_stats.last_conversation_date,
        {{ add_days(
            'lead(window_stats.as_of_date) over ('
            ~ 'partition by window_stats.user_id order by window_stats.as_of_date)',
            -1
        ) }} as valid_to

    from window_stats
    left join preferred_channels
        on
            window_stats.user_id = preferred_channels.user_id
            and window_stats.as_of_date = preferred_channels.as_of_date
            and preferred_channels.preference_rank = 1
    left join preferred_locales
        on
            window_stats.user_id = preferred_locales.user_id
            and window_stats.as_of_date = preferred_locales.as_of_date
            and preferred_locales.preference_rank = 1
    left join last_intents
        on
            window_stats.user_id = last_intents.user_id
            and window_stats.as_of_date = last_intents.as_of_date
            and last_intents.recency_rank = 1
    left join csat_stats
        on
            window_stats.user_id = csat_stats.user_id
            and window_stats.as_of_date = csat_stats.as_of_date

),

final as (

    select
        -- ids
        user_id || ':' || cast(as_of_date as {{ dbt.type_string() }}) as user_day_id,
        user_id,

        -- strings
        preferred_channel,
        preferred_locale,
        last_intent,

        -- numerics
        cast(conversations_to_date as integer) as conversations_to_date,
        cast(conversations_7d as integer) as conversations_7d,
        cast(conversations_28d as integer) as conversations_28d,
        cast(escalation_rate_28d as double) as escalation_rate_28d,
        cast(csat_avg as double) as csat_avg,
        cast(csat_ratings as integer) as csat_ratings,
        cast(days_since_last_conversation as integer) as days_since_last_conversation,

        -- dates
        as_of_date,
        valid_to,
        last_conversation_date,

        -- lineage
        {{ processed_batch_of(ref('fct_conversations')) }} as _processed_batch_id

    from features

)

select * from final
