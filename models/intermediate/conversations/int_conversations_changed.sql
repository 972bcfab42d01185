{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        unique_key=none,
    )
}}

{#-
    The changelog that drives incremental processing: one row per conversation and
    ingest batch whose staging rows touched it. On an incremental run each touched
    user's other conversations are listed too, because whether a conversation was
    recontacted depends on the user's next conversation; those rows say
    is_content_changed = false (their own messages, events and feedback did not change).
-#}

with

conversations as (

    select * from {{ ref('int_conversations_unioned') }}

),

messages as (

    select * from {{ ref('int_messages_unioned') }}

),

events as (

    select * from {{ ref('int_events_unioned') }}

),

feedback as (

    select * from {{ ref('int_feedback_unioned') }}

),

touched as (

    {%- for input in ['conversations', 'messages', 'events', 'feedback'] %}
    select
        conversation_id,
        _batch_id as batch_id
    from {{ input }}
    {{ new_batches_only(this_column='batch_id') }}
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}

),

{% if is_incremental() %}
touched_users as (

    select distinct
        touched.batch_id,
        conversations.user_id

    from touched
    inner join conversations
        on touched.conversation_id = conversations.conversation_id
    where conversations.user_id is not null

),

same_user_conversations as (

    select distinct
        conversations.conversation_id,
        touched_users.batch_id

    from touched_users
    inner join conversations
        on touched_users.user_id = conversations.user_id

),

changed as (

    select
        touched.*,
        true as is_content_changed
    from touched

    union all

    select
        same_user_conversations.*,
        false as is_content_changed
    from same_user_conversations
    left join touched
        on
            same_user_conversations.conversation_id = touched.conversation_id
            and same_user_conversations.batch_id = touched.batch_id
    where touched.conversation_id is null

),
{% else %}
changed as (

    select
        touched.*,
        true as is_content_changed
    from touched

),
{% endif %}

final as (

    select
        -- ids
        changed.conversation_id,
        changed.batch_id,
        conversations.user_id,

        -- booleans
        changed.is_content_changed,

        -- dates
        {{ utc_date('conversations.started_at') }} as conversation_date

    from changed
    left join conversations
        on changed.conversation_id = conversations.conversation_id

)

select * from final
