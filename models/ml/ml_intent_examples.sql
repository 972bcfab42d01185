{#-
    Intent examples: the user messages that state an intent (the first user message of
    the conversation with that intent), with a trusted label. A later message with an
    intent already seen in the conversation (a follow-up such as "ok" or "can you explain
    that again?", also after a digression) carries that intent from the dialogue state,
    not from its text, so it is no example. The split is keyed by the near-duplicate text key
    (macros/ml/ml_text.sql): the same normalised text never lands in two splits.
-#}

{{ config(pre_hook="{{ delete_changed_conversations() }}") }}

with

messages as (

    select * from {{ ref('int_messages_redacted') }}
    {{ changed_conversations_only() }}

),

conversations as (

    select * from {{ ref('int_conversations_classified') }}
    {{ changed_conversations_only() }}

),

user_intents as (

    select
        *,
        row_number() over (
            partition by conversation_id, intent_name
            order by sent_at, message_id
        ) as intent_mention

    from messages
    where
        message_role = 'user'
        and intent_name is not null

),

utterances as (

    select
        user_intents.message_id as example_id,
        user_intents.conversation_id,
        user_intents.bot_id,
        user_intents.message_text_redacted as utterance_text,
        user_intents.intent_name,
        case
            when
                user_intents.intent_confidence
                >= {{ var('ml_min_intent_confidence') }}
                then 'nlu_confidence'
            when
                conversations.is_resolution_confirmed
                and user_intents.intent_name = conversations.main_intent
                then 'confirmed_resolution'
        end as label_source,
        user_intents.intent_confidence,
        conversations.conversation_date,
        user_intents.sent_at

    from user_intents
    inner join conversations
        on user_intents.conversation_id = conversations.conversation_id
    where user_intents.intent_mention = 1

),

keyed as (

    select
        *,
        {{ ml_text_key('utterance_text') }} as text_key

    from utterances
    where label_source is not null

),

final as (

    select
        example_id,
        conversation_id,
        bot_id,
        utterance_text,
        intent_name,
        label_source,
        text_key,
        {{ ml_near_duplicate_key('text_key') }} as near_duplicate_key,
        {{ ml_split(ml_near_duplicate_key('text_key')) }} as split,
        intent_confidence,
        conversation_date,
        sent_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from keyed

)

select * from final
