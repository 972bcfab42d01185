{#-
    Preference pairs from thumbs feedback: every assistant answer rated thumbs-down
    (rejected) is paired with the latest thumbs-up answer of the same bot to a user
    message of the same intent, sent before it (chosen). The pool of chosen answers is
    read whole (a filtered scan); only changed conversations' rejected answers are
    recomputed.
-#}

with

messages as (

    select * from {{ ref('int_messages_redacted') }}

),

changed_messages as (

    select * from {{ ref('int_messages_redacted') }}
    {{ changed_conversations_only() }}

),

rejected as (

    select * from changed_messages
    where
        message_role = 'assistant'
        and thumbs_value = -1
        and context_message_id is not null

),

chosen_pool as (

    select * from messages
    where
        message_role = 'assistant'
        and thumbs_value = 1
        and context_intent_name is not null

),

candidates as (

    select
        rejected.message_id as rejected_message_id,
        chosen_pool.message_id as chosen_message_id,
        chosen_pool.message_text_redacted as chosen_text,
        row_number() over (
            partition by rejected.message_id
            order by chosen_pool.sent_at desc, chosen_pool.message_id desc
        ) as candidate_rank

    from rejected
    inner join chosen_pool
        on
            rejected.bot_id = chosen_pool.bot_id
            and rejected.context_intent_name = chosen_pool.context_intent_name
            and rejected.sent_at > chosen_pool.sent_at

),

final as (

    select
        rejected.message_id as preference_id,
        rejected.conversation_id,
        rejected.bot_id,
        rejected.context_message_id,
        candidates.chosen_message_id,
        rejected.message_id as rejected_message_id,
        rejected.context_intent_name as intent_name,
        rejected.context_text_redacted as context_text,
        candidates.chosen_text,
        rejected.message_text_redacted as rejected_text,
        {{ ml_split('rejected.conversation_id') }} as split,
        {{ utc_date('rejected.conversation_started_at') }} as conversation_date,
        rejected.sent_at as rejected_sent_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from rejected
    inner join candidates
        on
            rejected.message_id = candidates.rejected_message_id
            and candidates.candidate_rank = 1

)

select * from final
