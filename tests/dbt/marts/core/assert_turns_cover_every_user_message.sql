-- Every user message is exactly one turn, and a turn's reply is the first assistant
-- message after it in the same conversation. A nightly checks the conversations it
-- recomputed (fct_messages rewrites a conversation's messages together).
with

messages as (

    select * from {{ chatbot_analytics.unpublished_rows(ref('fct_messages')) }}

),

turns as (

    select * from {{ ref('fct_turns') }}

),

first_replies as (

    select
        user_messages.message_id as user_message_id,
        min(assistant_messages.message_sequence) as reply_sequence

    from messages as user_messages
    left join messages as assistant_messages
        on
            user_messages.conversation_id = assistant_messages.conversation_id
            and assistant_messages.message_role = 'assistant'
            and user_messages.message_sequence < assistant_messages.message_sequence
    where user_messages.message_role = 'user'
    group by 1

)

select
    first_replies.user_message_id,
    turns.turn_id,
    first_replies.reply_sequence,
    replies.message_sequence as paired_sequence

from first_replies
left join turns
    on first_replies.user_message_id = turns.user_message_id
left join messages as replies
    on turns.reply_message_id = replies.message_id
where
    turns.turn_id is null
    or coalesce(first_replies.reply_sequence, -1) != coalesce(replies.message_sequence, -1)
