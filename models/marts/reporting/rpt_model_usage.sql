with

messages as (

    select * from {{ ref('fct_messages') }}
    {{ changed_days_only(ref('fct_messages')) }}

),

model_stats as (

    select
        conversation_date,
        coalesce(model_name, 'unknown') as model_name,
        count(*) as billable_messages,
        count(distinct conversation_id) as conversations,
        count(case when is_cost_missing then message_id end) as unpriced_messages,
        coalesce(sum(input_tokens), 0) as input_tokens,
        coalesce(sum(output_tokens), 0) as output_tokens,
        sum(cost_usd) as cost_usd

    from messages
    where is_billable
    group by 1, 2

),

final as (

    select
        -- grain
        conversation_date,
        model_name,

        -- numerics
        cast(billable_messages as bigint) as billable_messages,
        cast(conversations as bigint) as conversations,
        cast(unpriced_messages as bigint) as unpriced_messages,
        cast(input_tokens as bigint) as input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(input_tokens + output_tokens as bigint) as total_tokens,
        cast(cost_usd as double) as cost_usd,

        -- lineage
        {{ processed_batch_of(ref('fct_messages')) }} as _processed_batch_id

    from model_stats

)

select * from final
