with

interactions as (

    select * from {{ ref('int_kb_document_interactions') }}
    {{ changed_days_only(ref('int_kb_document_interactions')) }}

),

usage_stats as (

    select
        conversation_date,
        document_id,
        count(case when interaction_kind = 'retrieval' then interaction_id end) as retrievals,
        count(case when interaction_kind = 'citation' then interaction_id end) as citations,
        count(distinct conversation_id) as conversations,
        count(
            case when interaction_kind = 'citation' and has_thumbs_up then interaction_id end
        ) as cited_answers_thumbs_up,
        count(
            case when interaction_kind = 'citation' and has_thumbs_down then interaction_id end
        ) as cited_answers_thumbs_down

    from interactions
    group by 1, 2

),

final as (

    select
        -- grain
        conversation_date,
        document_id,

        -- numerics
        cast(retrievals as bigint) as retrievals,
        cast(citations as bigint) as citations,
        cast(conversations as bigint) as conversations,
        cast(cited_answers_thumbs_up as bigint) as cited_answers_thumbs_up,
        cast(cited_answers_thumbs_down as bigint) as cited_answers_thumbs_down,
        cast(
            {{ safe_ratio(
                'cited_answers_thumbs_up',
                'cited_answers_thumbs_up + cited_answers_thumbs_down'
            ) }} as double
        ) as cited_thumbs_up_ratio,

        -- lineage
        {{ processed_batch_of(ref('int_kb_document_interactions')) }} as _processed_batch_id

    from usage_stats

)

select * from final
