-- depends_on: {{ ref('int_conversations_changed') }}
-- (read only by changed_conversations_only(content_only=true) on incremental runs)

with

messages as (

    select * from {{ ref('int_messages_sessionized') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

model_prices as (

    select * from {{ ref('model_prices') }}

),

price_periods as (

    select
        model_name,
        input_usd_per_1k_tokens,
        output_usd_per_1k_tokens,
        cast(valid_from as timestamp) as valid_from_at,
        cast(lead(valid_from) over (
            partition by model_name
            order by valid_from
        ) as timestamp) as valid_to_at

    from model_prices

),

priced as (

    select
        messages.message_id,
        price_periods.input_usd_per_1k_tokens,
        price_periods.output_usd_per_1k_tokens,
        price_periods.valid_from_at as price_valid_from_at

    from messages
    inner join price_periods
        on
            messages.model_name = price_periods.model_name
            and messages.sent_at >= price_periods.valid_from_at
            and (
                messages.sent_at < price_periods.valid_to_at
                or price_periods.valid_to_at is null
            )

),

costed as (

    select
        messages.*,
        priced.input_usd_per_1k_tokens,
        priced.output_usd_per_1k_tokens,
        priced.price_valid_from_at,
        messages.input_tokens * priced.input_usd_per_1k_tokens / 1000.0 as input_cost_usd,
        messages.output_tokens * priced.output_usd_per_1k_tokens / 1000.0 as output_cost_usd,
        -- the source's own cost when it carries one (Langfuse), else the price seed
        coalesce(
            messages.source_cost_usd,
            messages.input_tokens * priced.input_usd_per_1k_tokens / 1000.0
            + messages.output_tokens * priced.output_usd_per_1k_tokens / 1000.0
        ) as cost_usd,
        (
            messages.model_name is not null
            or messages.input_tokens is not null
            or messages.output_tokens is not null
        ) as is_billable,
        priced.message_id is not null as is_priced

    from messages
    left join priced
        on messages.message_id = priced.message_id

),

final as (

    select
        *,
        -- billable but no cost: unknown model (or price period) or missing token counts
        coalesce(is_billable and cost_usd is null, false) as is_cost_missing

        -- lineage: _processed_batch_id comes with messages.* (the same run's
        -- watermark); naming it twice gave DuckDB a stray _processed_batch_id_1
        -- and Spark an error

    from costed

)

select * from final
