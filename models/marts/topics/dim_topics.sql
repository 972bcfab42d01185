with

topics as (

    select * from {{ ref('stg_topics__topics') }}

),

message_topics as (

    select * from {{ ref('stg_topics__message_topics') }}

),

unlabelled as (

    select * from {{ ref('int_messages_unlabelled') }}

),

intents as (

    select * from {{ ref('dim_intents') }}

),

daily as (

    select * from {{ ref('rpt_topics') }}

),

current_version as (

    select max(model_version) as model_version
    from topics

),

-- the member for messages no topic is near enough to (yet)
members as (

    select
        topic_id,
        model_version,
        label as topic_label,
        representative_utterance,
        example_utterances,
        fit_messages

    from topics

    union all

    select
        -1 as topic_id,
        current_version.model_version,
        'pending (no topic near enough yet)' as topic_label,
        null as representative_utterance,
        [] as example_utterances,
        0 as fit_messages

    from current_version

),

totals as (

    select
        topic_id,
        sum(messages) as messages,
        sum(conversations) as conversations,
        sum(engaged_conversations) as engaged_conversations,
        sum(resolved_conversations) as resolved_conversations,
        sum(escalated_conversations) as escalated_conversations,
        min(conversation_date) as first_seen_date,
        max(conversation_date) as last_seen_date,
        {{ safe_ratio('sum(resolved_conversations)', 'sum(engaged_conversations)') }}
            as resolution_rate,
        {{ safe_ratio('sum(escalated_conversations)', 'sum(engaged_conversations)') }}
            as escalation_rate

    from daily
    group by 1

),

-- the intent the NLU guessed most often (below the confidence threshold) for the topic
intent_guesses as (

    select
        message_topics.topic_id,
        unlabelled.intent_name,
        count(*) as messages

    from message_topics
    inner join unlabelled
        on message_topics.message_id = unlabelled.message_id
    where unlabelled.intent_name is not null and unlabelled.intent_name != 'unknown'
    group by 1, 2

),

ranked_guesses as (

    select
        topic_id,
        intent_name,
        row_number() over (
            partition by topic_id order by messages desc, intent_name asc
        ) as guess_rank

    from intent_guesses

),

dominant_intents as (

    select
        topic_id,
        intent_name as dominant_intent

    from ranked_guesses
    where guess_rank = 1

),

final as (

    select
        -- keys
        cast(members.topic_id as integer) as topic_id,

        -- attributes
        members.topic_label,
        members.representative_utterance,
        cast(members.example_utterances as varchar[]) as example_utterances,
        dominant_intents.dominant_intent,
        coalesce(intents.category = 'smalltalk', false) as is_small_talk,
        cast(members.model_version as integer) as model_version,
        cast(members.fit_messages as integer) as fit_messages,

        -- numerics
        cast(coalesce(totals.messages, 0) as bigint) as messages,
        cast(coalesce(totals.conversations, 0) as bigint) as conversations,
        cast(coalesce(totals.engaged_conversations, 0) as bigint) as engaged_conversations,
        cast(totals.resolution_rate as double) as resolution_rate,
        cast(totals.escalation_rate as double) as escalation_rate,

        -- dates
        totals.first_seen_date,
        totals.last_seen_date

    from members
    left join totals
        on members.topic_id = totals.topic_id
    left join dominant_intents
        on members.topic_id = dominant_intents.topic_id
    left join intents
        on dominant_intents.dominant_intent = intents.intent

)

select * from final
