with

conversations as (

    select * from {{ ref('fct_conversations') }}
    {{ changed_days_only(ref('fct_conversations')) }}

),

interactions as (

    select * from {{ ref('int_kb_document_interactions') }}
    {{ changed_days_only(ref('fct_conversations')) }}

),

intents as (

    select * from {{ ref('dim_intents') }}

),

citations as (

    select * from interactions
    where interaction_kind = 'citation'

),

-- a cited answer is useful when the user did not thumb it down and the
-- conversation was resolved, or when the user thumbed it up
citations_per_conversation as (

    select
        citations.conversation_id,
        count(*) as citations,
        count(
            case
                when citations.has_thumbs_up
                    or (conversations.is_resolved and not citations.has_thumbs_down)
                    then citations.interaction_id
            end
        ) as useful_citations

    from citations
    inner join conversations
        on citations.conversation_id = conversations.conversation_id
    group by 1

),

-- what a conversation is about: its main intent, unless that is small talk (greetings,
-- thanks, out of scope: never a content gap), and each topic of its unlabelled messages
-- (rows with intent `unknown`), unless the topic is small talk or the pending pool
subjects as (

    select
        conversations.conversation_id,
        coalesce(conversations.main_intent, 'unknown') as intent,
        cast(null as integer) as topic_id,
        cast(null as {{ dbt.type_string() }}) as topic_label

    from conversations
    left join intents
        on coalesce(conversations.main_intent, 'unknown') = intents.intent
    where coalesce(intents.category, '') != 'smalltalk'

    {{ content_gap_topic_subjects('conversations') }}

),

intent_stats as (

    select
        conversations.conversation_date,
        subjects.intent,
        subjects.topic_id,
        subjects.topic_label,
        count(*) as conversations,
        count(case when conversations.has_fallback then conversations.conversation_id end)
            as fallback_conversations,
        count(case when conversations.is_resolved then conversations.conversation_id end)
            as resolved_conversations,
        sum(conversations.retrieval_count) as retrievals,
        sum(coalesce(citations_per_conversation.citations, 0)) as citations,
        sum(coalesce(citations_per_conversation.useful_citations, 0)) as useful_citations

    from subjects
    inner join conversations
        on subjects.conversation_id = conversations.conversation_id
    left join citations_per_conversation
        on conversations.conversation_id = citations_per_conversation.conversation_id
    group by 1, 2, 3, 4

),

rates as (

    select
        *,
        {{ safe_ratio('fallback_conversations', 'conversations') }} as fallback_rate,
        {{ safe_ratio('resolved_conversations', 'conversations') }} as resolution_rate,
        {{ safe_ratio('useful_citations', 'conversations') }}
            as useful_citations_per_conversation

    from intent_stats

),

final as (

    select
        -- grain
        conversation_date,
        intent,
        cast(topic_id as integer) as topic_id,

        -- attributes
        topic_label,

        -- numerics
        cast(conversations as bigint) as conversations,
        cast(fallback_conversations as bigint) as fallback_conversations,
        cast(resolved_conversations as bigint) as resolved_conversations,
        cast(retrievals as bigint) as retrievals,
        cast(citations as bigint) as citations,
        cast(useful_citations as bigint) as useful_citations,
        cast(fallback_rate as double) as fallback_rate,
        cast(resolution_rate as double) as resolution_rate,
        cast(useful_citations_per_conversation as double) as useful_citations_per_conversation,

        -- booleans
        conversations >= {{ var('kb_gap_min_conversations', 5) }}
        and (
            fallback_rate >= {{ var('kb_gap_min_fallback_rate', 0.2) }}
            or resolution_rate <= {{ var('kb_gap_max_resolution_rate', 0.5) }}
        )
        and useful_citations_per_conversation
        < {{ var('kb_gap_max_useful_citations_per_conversation', 0.5) }}
            as is_content_gap,

        -- lineage
        {{ processed_batch_of(ref('fct_conversations')) }} as _processed_batch_id

    from rates

)

select * from final
