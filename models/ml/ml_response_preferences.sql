{#-
    Preference pairs from thumbs feedback, only between answers to the same prompt: every
    assistant answer rated thumbs-down (rejected) is paired with the latest thumbs-up answer
    of the same bot, sent before it, to a user message of the same intent whose text has the
    same near-duplicate key (macros/ml/ml_text.sql: case, punctuation, redaction placeholders,
    numbers and names normalised away), with a different answer text (chosen); null when
    there is none yet (the export keeps only pairs). The contract carries one answer per user
    message (no regenerated answers), so "the same prompt" is the same bot, intent and
    normalised user text. The split is keyed by the prompt's near-duplicate key.
    An incremental run recomputes the changed
    conversations (those whose own rows changed), plus those whose pairing a
    changed thumbs-up answer can alter: the
    rejected answers after it in its (bot, intent) group, and the rows that chose an
    answer of a changed conversation. The pre-hook first deletes the changed
    conversations' rows, so a rating withdrawn leaves nothing stale.
-#}

{{ config(pre_hook="{{ delete_changed_conversations(content_only=true) }}") }}

with

messages as (

    select * from {{ ref('int_messages_redacted') }}

),

-- a conversation listed only for a user's recontact keeps its answers and ratings:
-- it cannot change a pairing (macros/incremental/changed_conversations.sql)
changed_messages as (

    select * from {{ ref('int_messages_redacted') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

changed_chosen_groups as (

    select
        bot_id,
        context_intent_name,
        min(sent_at) as first_sent_at

    from changed_messages
    where
        message_role = 'assistant'
        and thumbs_value = 1
        and context_intent_name is not null
    group by 1, 2

),

recomputed_conversations as (

    select conversation_id from changed_messages

    union

    select messages.conversation_id
    from messages
    inner join changed_chosen_groups
        on
            messages.bot_id = changed_chosen_groups.bot_id
            and messages.context_intent_name = changed_chosen_groups.context_intent_name
            and messages.sent_at > changed_chosen_groups.first_sent_at
    where
        messages.message_role = 'assistant'
        and messages.thumbs_value = -1

    {% if is_incremental() %}
    union

    select previous.conversation_id
    from {{ this }} as previous
    where previous.chosen_conversation_id in (
            select changed_messages.conversation_id from changed_messages
        )
    {% endif %}

),

rejected as (

    select
        messages.*,
        {{ ml_text_key('messages.context_text_redacted') }} as context_text_key,
        {{ ml_near_duplicate_key(ml_text_key('messages.context_text_redacted')) }} as prompt_key
    from messages
    inner join recomputed_conversations
        on messages.conversation_id = recomputed_conversations.conversation_id
    where
        messages.message_role = 'assistant'
        and messages.thumbs_value = -1
        and messages.context_message_id is not null

),

chosen_pool as (

    select
        *,
        {{ ml_near_duplicate_key(ml_text_key('context_text_redacted')) }} as prompt_key

    from messages
    where
        message_role = 'assistant'
        and thumbs_value = 1
        and context_intent_name is not null

),

candidates as (

    select
        rejected.message_id as rejected_message_id,
        chosen_pool.message_id as chosen_message_id,
        chosen_pool.conversation_id as chosen_conversation_id,
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
            and rejected.prompt_key = chosen_pool.prompt_key
            and rejected.message_text_redacted != chosen_pool.message_text_redacted
            and rejected.sent_at > chosen_pool.sent_at

),

final as (

    select
        rejected.message_id as preference_id,
        rejected.conversation_id,
        rejected.bot_id,
        rejected.context_message_id,
        candidates.chosen_message_id,
        candidates.chosen_conversation_id,
        rejected.message_id as rejected_message_id,
        rejected.context_intent_name as intent_name,
        rejected.context_text_redacted as context_text,
        candidates.chosen_text,
        rejected.message_text_redacted as rejected_text,
        rejected.context_text_key,
        rejected.prompt_key,
        {{ ml_split('rejected.prompt_key') }} as split,
        {{ utc_date('rejected.conversation_started_at') }} as conversation_date,
        rejected.sent_at as rejected_sent_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from rejected
    left join candidates
        on
            rejected.message_id = candidates.rejected_message_id
            and candidates.candidate_rank = 1

)

select * from final
