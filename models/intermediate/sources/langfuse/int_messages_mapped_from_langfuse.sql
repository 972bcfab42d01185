{#-
    Langfuse generations as contract v1 messages (docs/sources/langfuse.md, "messages").
    User messages: the user messages of a generation's input after its last assistant
    message (earlier ones are history), once per trace and text. Assistant messages: one per
    answer generation, with the tokens, cost and start of the tool-call steps of its turn.
    Incremental by conversation: the conversations of the traces int_langfuse_observations_resolved
    recomputed since this model's last run (macros/incremental/changed_traces.sql).
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

generations as (

    select * from observations
    where observation_type = 'GENERATION'

),

input_message_lists as (

    -- a select-list unnest streams generation by generation (list_with_positions)
    select
        *,
        unnest({{ list_with_positions('input_messages') }}) as _input_message
    from generations

),

input_messages as (

    select
        * exclude (_input_message),
        _input_message.position - 1 as input_index,
        _input_message.value as input_message
    from input_message_lists

),

input_read as (

    select
        *,
        lower(input_message ->> 'role') as input_role,
        case
            when json_type(input_message, '$.content') = 'ARRAY'
                then {{ langfuse_content_text("input_message -> 'content'") }}
            else input_message ->> 'content'
        end as input_content,
        max(case when lower(input_message ->> 'role') = 'assistant' then input_index end) over (
            partition by observation_id
        ) as last_assistant_index
    from input_messages

),

new_user_messages as (

    select *
    from input_read
    where
        input_role = 'user'
        and input_index > coalesce(last_assistant_index, -1)
        and nullif(trim(input_content), '') is not null
    -- a retry or tool loop repeats the question: once per trace and text
    qualify row_number() over (
        partition by trace_id, input_content
        order by start_time, observation_id, input_index
    ) = 1

),

user_messages as (

    select
        observation_id || ':in:' || cast(input_index as varchar) as message_id,
        conversation_id,
        'user' as message_role,
        input_content as message_text,
        cast(null as varchar) as model_name,
        cast(null as bigint) as input_tokens,
        cast(null as bigint) as output_tokens,
        cast(null as bigint) as latency_ms,
        cast(null as double) as source_cost_usd,
        cast(null as varchar[]) as retrieved_document_ids,
        start_time as sent_at,
        updated_at as exported_at,
        _export_date,
        _file_path,
        _line_number,
        _batch_id
    from new_user_messages

),

turn_members as (

    select
        turn_answer_id,
        min(start_time) as turn_started_at,
        -- DuckDB sums bigints to hugeint: back to v1's bigint
        cast(sum(usage_input_tokens) as bigint) as input_tokens,
        cast(sum(usage_output_tokens) as bigint) as output_tokens,
        sum(source_cost_usd) as source_cost_usd,
        max(updated_at) as exported_at,
        max(_batch_id) as _batch_id
    from observations
    where generation_role in ('answer', 'tool_step') and turn_answer_id is not null
    group by 1

),

turn_retrievals as (

    -- the documents of the turn's retrievals: by retrieval start, each in its order (best first)
    select
        turn_answer_id,
        flatten(
            list(retrieved_document_ids order by start_time, observation_id)
        ) as retrieved_document_ids,
        max(updated_at) as exported_at,
        max(_batch_id) as _batch_id
    from observations
    where
        observation_type = 'RETRIEVER'
        and retrieved_document_ids is not null
        and turn_answer_id is not null
    group by 1

),

assistant_messages as (

    select
        answers.observation_id || ':out' as message_id,
        answers.conversation_id,
        'assistant' as message_role,
        answers.output_message_text as message_text,
        answers.provided_model_name as model_name,
        turn_members.input_tokens,
        turn_members.output_tokens,
        {{ milliseconds_between('turn_members.turn_started_at', 'answers.end_time') }} as latency_ms,
        turn_members.source_cost_usd,
        turn_retrievals.retrieved_document_ids,
        answers.end_time as sent_at,
        -- the latest record of the turn
        greatest(
            turn_members.exported_at, turn_retrievals.exported_at
        ) as exported_at,
        answers._export_date,
        answers._file_path,
        answers._line_number,
        greatest(turn_members._batch_id, turn_retrievals._batch_id) as _batch_id
    from observations as answers
    inner join turn_members
        on answers.observation_id = turn_members.turn_answer_id
    left join turn_retrievals
        on answers.observation_id = turn_retrievals.turn_answer_id
    where answers.generation_role = 'answer'

),

unioned as (

    select * from user_messages
    union all
    select * from assistant_messages

),

final as (

    select
        -- ids
        message_id,
        conversation_id,

        -- strings
        message_role,
        message_text,
        cast(null as varchar) as intent_name,
        model_name,
        retrieved_document_ids,
        cast(null as varchar) as sentiment_label,

        -- numerics
        cast(null as double) as intent_confidence,
        cast(null as double) as sentiment_score,
        input_tokens,
        output_tokens,
        latency_ms,
        source_cost_usd,

        -- timestamps (UTC)
        sent_at,
        exported_at,

        -- lineage
        _export_date,
        _file_path,
        _line_number,
        _batch_id,
        (select max(_processed_batch_id) from {{ resolved }}) as _processed_batch_id

    from unioned

)

select * from final
