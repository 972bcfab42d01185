with

source as (

    select * from {{ source('topics', 'message_topics') }}

),

final as (

    select
        message_id,
        conversation_id,
        -- -1: the pending pool (no topic is near enough yet)
        coalesce(topic_id, -1) as topic_id,
        model_version,
        similarity,
        assigned_batch_id

    from source

)

select * from final
