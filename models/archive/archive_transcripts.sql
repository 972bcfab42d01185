with

messages as (

    select * from {{ ref('int_messages_redacted') }}

),

final as (

    select
        -- ids
        conversation_id,
        message_id,

        -- strings
        bot_id,
        channel,
        message_role,
        message_text_redacted as message_text,
        intent_name,

        -- numerics
        message_sequence,
        session_number,

        -- dates
        {{ utc_date('conversation_started_at') }} as archive_date,
        cast(
            {{ dbt.date_trunc('month', utc_date('conversation_started_at')) }} as date
        ) as archive_month,

        -- timestamps (UTC)
        conversation_started_at,
        sent_at,

        -- lineage
        _processed_batch_id

    from messages

)

select * from final
