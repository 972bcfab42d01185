{{ config(materialized='incremental', unique_key='trace_id') }}

{#-
    Every loaded Langfuse observation with its conversation (session, else trace; legacy
    exports take session, user, trace name and release from traces/), its input and output
    read as chat messages, and, for generations, its role in a turn (docs/sources/langfuse.md):
    an answer (output text), a tool-call step (no text, tool calls: folds into the next
    answer of the trace), an error, or a message without content (quarantined as a message).
    turn_answer_id is the answer closing the observation's turn: for a generation the next
    answer of the trace; for a TOOL or RETRIEVER observation the first answer of the trace
    sent at or after its start (its events and the answer's retrieved documents hang there).
    Incremental by trace (macros/incremental/changed_traces.sql): a night recomputes the traces
    its new observations (or legacy trace rows) touch, each from its whole history.
-#}
{%- set staged = [ref('stg_langfuse__observations'), ref('stg_langfuse__traces')] %}

with observations as (

    select * from {{ ref('stg_langfuse__observations') }}
    {{ changed_traces_only(staged) }}

),

traces as (

    select * from {{ ref('stg_langfuse__traces') }}
    {{ changed_traces_only(staged) }}

),

resolved as (

    select
        observations.* exclude (session_id, user_id, trace_name, release),
        coalesce(observations.session_id, traces.session_id) as session_id,
        coalesce(observations.user_id, traces.user_id) as user_id,
        coalesce(observations.trace_name, traces.trace_name) as trace_name,
        coalesce(observations.release, traces.release) as release,
        coalesce(observations.session_id, traces.session_id, observations.trace_id) as conversation_id,
        case when json_valid(observations.input_text) then json(observations.input_text) end as input_json,
        case when json_valid(observations.output_text) then json(observations.output_text) end as output_json
    from observations
    left join traces
        on observations.trace_id = traces.trace_id

),

read_io as (

    select
        *,
        -- the prompt as a list of chat messages: an array, an object with `messages`, or plain text
        case
            when json_type(input_json) = 'ARRAY' then cast(input_json as json[])
            when json_type(input_json, '$.messages') = 'ARRAY' then cast(input_json -> 'messages' as json[])
            when input_json is null and input_text is not null
                then [json_object('role', 'user', 'content', input_text)]
            when json_type(input_json) = 'VARCHAR'
                then [json_object('role', 'user', 'content', input_json ->> '$')]
        end as input_messages,
        -- the reply: an object {role, content, tool_calls?}, a string, or a list of parts
        case
            when output_json is null then output_text
            when json_type(output_json) = 'VARCHAR' then output_json ->> '$'
            when json_type(output_json) = 'ARRAY' then {{ langfuse_content_text('output_json') }}
            when json_type(output_json, '$.content') = 'ARRAY' then {{ langfuse_content_text("output_json -> 'content'") }}
            else output_json ->> 'content'
        end as output_message_text,
        coalesce(json_array_length(tool_calls), 0) > 0
        or coalesce(json_array_length(tool_call_names), 0) > 0
        or coalesce(json_array_length(output_json, '$.tool_calls'), 0) > 0 as has_tool_calls,
        -- the source's own cost: total_cost, else input + output cost; 0 with no details is "no cost"
        case
            when total_cost > 0 then total_cost
            when cost_details ->> 'total' is not null then {{ try_cast("cost_details ->> 'total'", 'double') }}
            when coalesce(cost_details ->> 'input', cost_details ->> 'output') is not null
                then coalesce({{ try_cast("cost_details ->> 'input'", 'double') }}, 0)
                + coalesce({{ try_cast("cost_details ->> 'output'", 'double') }}, 0)
        end as source_cost_usd,
        -- a RETRIEVER's output as a list of documents (their ids are kept only when every one has an id)
        case
            when observation_type = 'RETRIEVER' and json_type(output_json) = 'ARRAY'
                then cast(output_json as json[])
        end as retrieved_documents
    from resolved

),

classified as (

    select
        *,
        case
            when observation_type != 'GENERATION' then null
            when observation_level = 'ERROR' then 'error'
            when end_time is null then 'pending'
            when nullif(trim(output_message_text), '') is not null then 'answer'
            when has_tool_calls then 'tool_step'
            else 'without_content'
        end as generation_role,
        case
            when
                len(retrieved_documents) > 0
                and list_bool_and(
                    list_transform(retrieved_documents, lambda doc: doc ->> 'id' is not null)
                )
                then list_transform(retrieved_documents, lambda doc: doc ->> 'id')
        end as retrieved_document_ids,
        row_number() over (
            partition by trace_id order by start_time, observation_id
        ) as trace_sequence
    from read_io

),

answers as (

    select
        trace_id,
        observation_id as answer_id,
        end_time as answer_sent_at
    from classified
    where generation_role = 'answer'

),

turns as (

    select
        *,
        -- a generation folds into the next answer of the trace
        first_value(
            case when generation_role = 'answer' then observation_id end ignore nulls
        ) over (
            partition by trace_id
            order by trace_sequence
            rows between current row and unbounded following
        ) as next_answer_id,
        -- a tool or retrieval serves the first answer of the trace sent at or after its start
        (
            select arg_min(answers.answer_id, answers.answer_sent_at) as answer_id
            from answers
            where
                answers.trace_id = classified.trace_id
                and answers.answer_sent_at >= classified.start_time
        ) as answer_sent_after_start_id,
        case
            when generation_role = 'without_content' then 'message_without_content'
        end as _message_quarantine_reason
    from classified

),

former_conversations as (

    {{ former_trace_conversations('turns') }}

),

final as (

    select
        turns.* exclude (next_answer_id, answer_sent_after_start_id),
        -- the answer that closes this observation's turn
        case
            when turns.observation_type in ('TOOL', 'RETRIEVER') then turns.answer_sent_after_start_id
            else turns.next_answer_id
        end as turn_answer_id,
        former_conversations.former_conversation_ids as _former_conversation_ids,
        {{ staged_batch_id(staged) }} as _processed_batch_id
    from turns
    left join former_conversations
        on turns.trace_id = former_conversations.trace_id

)

select * from final
