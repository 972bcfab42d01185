with

users as (

    select * from {{ ref('int_users_unioned') }}

),

conversations as (

    select * from {{ ref('int_conversations_aggregated') }}

),

conversation_users as (

    select
        user_id,
        cast(count(*) as integer) as conversation_count,
        min(started_at) as first_conversation_at,
        max(started_at) as last_conversation_at

    from conversations
    where user_id is not null
    group by 1

),

-- every user with a profile, plus users seen only on conversations
all_users as (

    select
        user_id,
        true as has_profile

    from users

    union all

    select
        conversation_users.user_id,
        false as has_profile

    from conversation_users
    left join users
        on conversation_users.user_id = users.user_id
    where users.user_id is null

),

final as (

    select
        -- ids
        all_users.user_id,

        -- strings
        users.user_segment,
        users.country_code,

        -- booleans
        all_users.has_profile,

        -- timestamps (UTC)
        users.created_at,
        conversation_users.first_conversation_at,
        conversation_users.last_conversation_at,

        -- numerics (calculated last: sqlfluff ST06)
        coalesce(conversation_users.conversation_count, 0) as conversation_count

    from all_users
    left join users
        on all_users.user_id = users.user_id
    left join conversation_users
        on all_users.user_id = conversation_users.user_id

)

select * from final
