{#-
    Every loaded span with its conversation and its turn (docs/sources/otel-genai.md):
    conversation_id = gen_ai.conversation.id, else the one a span of the same trace carries,
    else the trace id. Turns: invoke_agent spans carrying messages; in a trace without them,
    inference spans carrying messages. Every other span belongs to its nearest ancestor turn,
    else to the turn of its trace whose time span holds its start. turn_message_id is the
    turn's assistant message (its first output message with text), if any. Incremental by trace
    (macros/incremental/changed_traces.sql): a night resolves again the traces with new spans.
-#}
{{ config(materialized='incremental', unique_key='trace_id') }}
{%- set staged = [ref('stg_otel__spans')] %}

with recursive spans as (

    select * exclude (events, resource_attributes, attributes) from {{ ref('stg_otel__spans') }}
    {{ changed_traces_only(staged) }}

),

messages as (

    select * from {{ ref('int_otel_span_messages') }}
    {{ changed_traces_only(staged) }}

),

message_flags as (

    select
        trace_id,
        span_id,
        bool_or(len(tool_call_ids) > 0) as has_tool_calls,
        bool_or(is_without_content) as has_message_without_content
    from messages
    group by 1, 2

),

trace_conversations as (

    select
        trace_id,
        arg_min(conversation_attribute, started_at) filter (
            where conversation_attribute is not null
        ) as trace_conversation_id
    from spans
    group by 1

),

flagged as (

    select
        spans.*,
        coalesce(
            spans.conversation_attribute, trace_conversations.trace_conversation_id, spans.trace_id
        ) as conversation_id,
        -- inference: chat / generate_content / text_completion (<= v1.36 spans may lack the operation)
        spans.is_genai and coalesce(spans.operation_name, 'chat') in (
            'chat', 'generate_content', 'text_completion'
        ) as is_inference,
        coalesce(spans.operation_name = 'invoke_agent', false) as is_agent,
        message_flags.span_id is not null as has_messages,
        coalesce(message_flags.has_tool_calls, false) as has_tool_calls,
        coalesce(message_flags.has_message_without_content, false) as has_message_without_content
    from spans
    left join trace_conversations
        on spans.trace_id = trace_conversations.trace_id
    left join message_flags
        on
            spans.trace_id = message_flags.trace_id
            and spans.span_id = message_flags.span_id

),

marked as (

    select
        *,
        coalesce(
            is_agent and has_messages
            or (
                not bool_or(is_agent and has_messages) over (partition by trace_id)
                and is_inference and has_messages
            ),
            false
        ) as is_turn
    from flagged

),

ancestry as (

    -- walk up from every span that is not a turn until a turn (or the root) is reached
    select
        trace_id,
        span_id,
        parent_span_id as ancestor_id,
        1 as depth
    from marked
    where parent_span_id is not null and not is_turn

    union all

    select
        ancestry.trace_id,
        ancestry.span_id,
        parents.parent_span_id as ancestor_id,
        ancestry.depth + 1 as depth
    from ancestry
    inner join marked as parents
        on
            ancestry.trace_id = parents.trace_id
            and ancestry.ancestor_id = parents.span_id
    where not parents.is_turn and parents.parent_span_id is not null and ancestry.depth < 64

),

nearest_turns as (

    select
        ancestry.trace_id,
        ancestry.span_id,
        arg_min(ancestry.ancestor_id, ancestry.depth) as turn_span_id
    from ancestry
    inner join marked as turns
        on
            ancestry.trace_id = turns.trace_id
            and ancestry.ancestor_id = turns.span_id
    where turns.is_turn
    group by 1, 2

),

containing_turns as (

    select
        spans.trace_id,
        spans.span_id,
        arg_max(turns.span_id, turns.started_at) as turn_span_id
    from marked as spans
    inner join marked as turns
        on
            spans.trace_id = turns.trace_id
            and turns.is_turn
            and spans.started_at between turns.started_at and turns.ended_at
    where not spans.is_turn
    group by 1, 2

),

turn_answers as (

    select
        trace_id,
        span_id,
        span_id || ':out:' || cast(min(message_index) as varchar) as turn_message_id
    from messages
    where
        direction = 'output'
        and coalesce(message_role, 'assistant') = 'assistant'
        and nullif(trim(message_text), '') is not null
    group by 1, 2

),

resolved as (

    select
        marked.*,
        case
            when marked.is_turn then marked.span_id
            else coalesce(nearest_turns.turn_span_id, containing_turns.turn_span_id)
        end as turn_span_id
    from marked
    left join nearest_turns
        on
            marked.trace_id = nearest_turns.trace_id
            and marked.span_id = nearest_turns.span_id
    left join containing_turns
        on
            marked.trace_id = containing_turns.trace_id
            and marked.span_id = containing_turns.span_id

),

former_conversations as (

    {{ former_trace_conversations('resolved') }}

),

final as (

    select
        resolved.*,
        turn_answers.turn_message_id,
        case
            when resolved.has_message_without_content and not resolved.has_tool_calls
                then 'message_without_content'
        end as _message_quarantine_reason,
        former_conversations.former_conversation_ids as _former_conversation_ids,
        {{ staged_batch_id(staged) }} as _processed_batch_id
    from resolved
    left join turn_answers
        on
            resolved.trace_id = turn_answers.trace_id
            and resolved.turn_span_id = turn_answers.span_id
    left join former_conversations
        on resolved.trace_id = former_conversations.trace_id

)

select * from final
