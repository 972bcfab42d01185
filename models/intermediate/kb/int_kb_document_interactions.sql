{#-
    One row per KB document a retrieval event returned (a retrieval) or an
    assistant message cited (a citation), recomputed per changed conversation.
-#}

with

messages as (

    select * from {{ ref('int_messages_flagged') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

events as (

    select * from {{ ref('int_events_parsed') }}
    {{ changed_conversations_only(content_only=true, rewritten_input=true) }}

),

positions as (

    -- 1 .. 100: more documents per answer than the contract's few are never expected
    select n + 1 as list_position
    from ({{ integer_sequence(2) }}) as digits

),

retrievals as (

    select
        events.event_id as interaction_source_id,
        events.conversation_id,
        events.message_id,
        {{ array_element('events.retrieved_document_ids', 'positions.list_position') }}
            as document_id,
        'retrieval' as interaction_kind,
        positions.list_position as document_rank,
        false as has_thumbs_up,
        false as has_thumbs_down,
        events.occurred_at,
        events.conversation_started_at

    from events
    inner join positions
        on positions.list_position <= {{ array_length('events.retrieved_document_ids') }}
    where events.event_type = 'retrieval'

),

citations as (

    select
        messages.message_id as interaction_source_id,
        messages.conversation_id,
        messages.message_id,
        {{ array_element('messages.retrieved_document_ids', 'positions.list_position') }}
            as document_id,
        'citation' as interaction_kind,
        positions.list_position as document_rank,
        messages.has_thumbs_up,
        messages.has_thumbs_down,
        messages.sent_at as occurred_at,
        messages.conversation_started_at

    from messages
    inner join positions
        on positions.list_position <= {{ array_length('messages.retrieved_document_ids') }}
    where messages.message_role = 'assistant'

),

interactions as (

    select * from retrievals
    union all
    select * from citations

),

final as (

    select
        -- ids
        interaction_kind || ':' || interaction_source_id || ':' || document_id
            as interaction_id,
        conversation_id,
        message_id,
        document_id,

        -- strings
        interaction_kind,

        -- numerics
        cast(document_rank as integer) as document_rank,

        -- booleans
        has_thumbs_up,
        has_thumbs_down,

        -- dates
        {{ utc_date('conversation_started_at') }} as conversation_date,

        -- timestamps (UTC)
        occurred_at,

        -- lineage
        {{ processed_batch_id() }} as _processed_batch_id

    from interactions

)

select * from final
