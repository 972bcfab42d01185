{#- Per day × bot: how well retrieval served the answers that cite KB documents. -#}
with

messages as (

    select * from {{ ref('fct_messages') }}
    {{ changed_days_only(ref('fct_messages')) }}

),

retrieval_stats as (

    select
        conversation_date,
        bot_id,
        count(*) as cited_answers,
        count(case when is_retrieval_hit then message_id end) as retrieval_hits,
        sum(retrieval_reciprocal_rank) as reciprocal_rank_sum,
        count(retrieval_top_score) as scored_answers,
        sum(retrieval_top_score) as top_score_sum

    from messages
    where is_retrieval_hit is not null
    group by 1, 2

),

final as (

    select
        -- grain
        conversation_date,
        bot_id,

        -- numerics
        cast(cited_answers as bigint) as cited_answers,
        cast(retrieval_hits as bigint) as retrieval_hits,
        cast({{ safe_ratio('retrieval_hits', 'cited_answers') }} as double) as retrieval_hit_rate,
        cast({{ safe_ratio('reciprocal_rank_sum', 'cited_answers') }} as double)
            as mean_reciprocal_rank,
        cast({{ safe_ratio('top_score_sum', 'scored_answers') }} as double) as top_score_avg,

        -- lineage
        {{ processed_batch_of(ref('fct_messages')) }} as _processed_batch_id

    from retrieval_stats

)

select * from final
