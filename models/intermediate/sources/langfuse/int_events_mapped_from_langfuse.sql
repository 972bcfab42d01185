{#-
    Langfuse observations as contract v1 events (docs/sources/langfuse.md, "events"): TOOL
    observations are tool_call events, generations at level ERROR are error events,
    RETRIEVER observations whose output lists documents with ids are retrieval events. The
    other v1 event types (fallback, handoff_*, resolution_*, conversation_closed) have no
    Langfuse equivalent.
    Incremental by conversation, as int_messages_mapped_from_* (macros/incremental/changed_traces.sql).
-#}
{%- set resolved = ref('int_langfuse_observations_resolved') %}
{{
    config(
        materialized='incremental',
        pre_hook="{{ delete_changed_trace_conversations(ref('int_langfuse_observations_resolved')) }}",
    )
}}

with observations as (

    select * from {{ resolved }}
    {{ changed_trace_conversations_only(resolved) }}

),

tool_and_retrieval as (

    select
        *,
        -- the assistant message closing the same turn
        turn_answer_id || ':out' as answer_message_id
    from observations
    where observation_type in ('TOOL', 'RETRIEVER')

),

tool_calls as (

    select
        observation_id as event_id,
        conversation_id,
        answer_message_id as message_id,
        'tool_call' as event_type,
        start_time as occurred_at,
        json_object(
            'tool', observation_name,
            'success', observation_level != 'ERROR',
            'duration_ms', {{ milliseconds_between('start_time', 'end_time') }},
            'error_code', case when observation_level = 'ERROR' then status_message end
        ) as payload,
        updated_at as exported_at,
        _export_date,
        _file_path,
        _line_number,
        _batch_id
    from tool_and_retrieval
    where observation_type = 'TOOL'

),

retrievals as (

    select
        observation_id as event_id,
        conversation_id,
        answer_message_id as message_id,
        'retrieval' as event_type,
        start_time as occurred_at,
        json_object(
            'document_ids', retrieved_document_ids,
            'scores', list_transform(
                retrieved_documents,
                lambda document: {{ try_cast("document ->> 'score'", 'double') }}
            )
        ) as payload,
        updated_at as exported_at,
        _export_date,
        _file_path,
        _line_number,
        _batch_id
    from tool_and_retrieval
    where observation_type = 'RETRIEVER' and retrieved_document_ids is not null

),

errors as (

    select
        observation_id || ':error' as event_id,
        conversation_id,
        cast(null as varchar) as message_id,
        'error' as event_type,
        start_time as occurred_at,
        json_object('error_code', status_message) as payload,
        updated_at as exported_at,
        _export_date,
        _file_path,
        _line_number,
        _batch_id
    from observations
    where generation_role = 'error'

),

unioned as (

    select * from tool_calls
    union all
    select * from retrievals
    union all
    select * from errors

),

final as (

    select
        *,
        (select max(_processed_batch_id) from {{ resolved }}) as _processed_batch_id
    from unioned

)

select * from final
