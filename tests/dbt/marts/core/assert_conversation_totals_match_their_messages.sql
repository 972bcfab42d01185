-- fct_conversations must agree with fct_messages on message counts, tokens and cost
-- (cost compared with a tolerance: sums of doubles). A nightly checks the conversations
-- it recomputed.
with

conversations as (

    select * from {{ chatbot_analytics.unpublished_rows(ref('fct_conversations')) }}

),

messages as (

    select * from {{ ref('fct_messages') }}
    where conversation_id in (select conversations.conversation_id from conversations)

),

message_totals as (

    select
        conversation_id,
        count(*) as message_count,
        coalesce(sum(input_tokens), 0) as input_tokens,
        coalesce(sum(output_tokens), 0) as output_tokens,
        sum(cost_usd) as cost_usd,
        count(case when is_cost_missing then message_id end) as unpriced_message_count

    from messages
    group by 1

)

select
    conversations.conversation_id,
    conversations.message_count,
    message_totals.message_count as counted_messages,
    conversations.cost_usd,
    message_totals.cost_usd as summed_cost_usd

from conversations
left join message_totals
    on conversations.conversation_id = message_totals.conversation_id
where
    conversations.message_count != coalesce(message_totals.message_count, 0)
    or conversations.input_tokens != coalesce(message_totals.input_tokens, 0)
    or conversations.output_tokens != coalesce(message_totals.output_tokens, 0)
    or conversations.unpriced_message_count != coalesce(message_totals.unpriced_message_count, 0)
    or abs(coalesce(conversations.cost_usd, 0) - coalesce(message_totals.cost_usd, 0)) > 1e-9
