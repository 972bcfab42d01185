{#-
    One row per assistant message that cites KB documents and has a retrieval event: where
    the retriever ranked the first cited document (hit, reciprocal rank) and its rank-1
    score. Recomputed per changed conversation.
-#}

with

interactions as (

    select * from {{ ref('int_kb_document_interactions') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

events as (

    select * from {{ ref('int_events_parsed') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

citations as (

    select * from interactions
    where interaction_kind = 'citation'

),

retrievals as (

    select * from interactions
    where interaction_kind = 'retrieval'

),

retrieval_scores as (

    select
        message_id,
        max(retrieval_top_score) as retrieval_top_score

    from events
    where
        event_type = 'retrieval'
        and message_id is not null
    group by 1

),

retrieved_messages as (

    select distinct message_id
    from retrievals

),

-- the best retrieval rank any cited document got (null: no cited document was retrieved)
cited_ranks as (

    select
        citations.message_id,
        citations.conversation_id,
        min(citations.conversation_date) as conversation_date,
        min(retrievals.document_rank) as first_cited_rank

    from citations
    inner join retrieved_messages
        on citations.message_id = retrieved_messages.message_id
    left join retrievals
        on
            citations.message_id = retrievals.message_id
            and citations.document_id = retrievals.document_id
    group by 1, 2

),

final as (

    select
        -- ids
        cited_ranks.message_id,
        cited_ranks.conversation_id,

        -- numerics
        cast(cited_ranks.first_cited_rank as integer) as first_cited_rank,
        cast(coalesce(1.0 / cited_ranks.first_cited_rank, 0) as double)
            as retrieval_reciprocal_rank,
        cast(retrieval_scores.retrieval_top_score as double) as retrieval_top_score,

        -- booleans
        cited_ranks.first_cited_rank is not null as is_retrieval_hit,

        -- dates
        cited_ranks.conversation_date,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from cited_ranks
    left join retrieval_scores
        on cited_ranks.message_id = retrieval_scores.message_id

)

select * from final
