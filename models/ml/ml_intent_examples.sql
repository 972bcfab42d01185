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

utterances as (

    select
        messages.message_id as example_id,
        messages.conversation_id,
        messages.bot_id,
        messages.message_text_redacted as utterance_text,
        messages.intent_name,
        case
            when
                messages.intent_confidence
                >= {{ var('ml_min_intent_confidence') }}
                then 'nlu_confidence'
            when
                conversations.is_resolution_confirmed
                and messages.intent_name = conversations.main_intent
                then 'confirmed_resolution'
        end as label_source,
        messages.intent_confidence,
        conversations.conversation_date,
        messages.sent_at

    from messages
    inner join conversations
        on messages.conversation_id = conversations.conversation_id
    where
        messages.message_role = 'user'
        and messages.intent_name is not null

),

final as (

    select
        example_id,
        conversation_id,
        bot_id,
        utterance_text,
        intent_name,
        label_source,
        {{ ml_split('conversation_id') }} as split,
        intent_confidence,
        conversation_date,
        sent_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from utterances
    where label_source is not null

)

select * from final
