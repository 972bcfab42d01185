{#-
    OTel GenAI turns as contract v1 messages (docs/sources/otel-genai.md, "messages"). User
    messages: the user messages of a turn span's input after its last assistant message (the
    input is the whole history), once per trace and text. Assistant messages: the turn span's
    output messages with text; the first carries the turn's numbers (tokens summed over its
    inference spans, the model of the last of them, latency = turn span end - start, the
    documents of its retrieval spans). OTel carries no cost: source_cost_usd is null.
    Incremental by conversation: the conversations of the traces int_otel_spans_resolved
    recomputed since this model's last run (macros/incremental/changed_traces.sql).
-#}
{%- set resolved = ref('int_otel_spans_resolved') %}
{{
    config(
        materialized='incremental',
        pre_hook="{{ delete_changed_trace_conversations(ref('int_otel_spans_resolved')) }}",
    )
}}

with spans as (

    select * from {{ resolved }}
    {{ changed_trace_conversations_only(resolved) }}

),

messages as (

    select * from {{ ref('int_otel_span_messages') }}
    {%- if is_incremental() %}
    where trace_id in (select spans.trace_id from spans)
    {%- endif %}

),

turns as (

    select * from spans
    where is_turn

),

turn_messages as (

    select
        messages.*,
        turns.conversation_id,
        turns.started_at,
        turns.ended_at,
        turns.turn_message_id,
        turns.exported_at,
        turns._export_date,
        turns._file_path,
        turns._line_number,
        turns._batch_id,
        max(case when messages.direction = 'input' and messages.message_role = 'assistant' then messages.message_index end) over (
            partition by messages.trace_id, messages.span_id
        ) as last_assistant_index
    from messages
    inner join turns
        on
            messages.trace_id = turns.trace_id
            and messages.span_id = turns.span_id

),

new_user_messages as (

    select *
    from turn_messages
    where
        direction = 'input'
        and message_role = 'user'
        and message_index > coalesce(last_assistant_index, -1)
        and nullif(trim(message_text), '') is not null
    -- a retry repeats the question: once per trace and text
    qualify row_number() over (
        partition by trace_id, message_text
        order by started_at, span_id, message_index
    ) = 1

),

user_messages as (

    select
        span_id || ':in:' || cast(message_index as varchar) as message_id,
        conversation_id,
        'user' as message_role,
        message_text,
        cast(null as varchar) as model_name,
        cast(null as bigint) as input_tokens,
        cast(null as bigint) as output_tokens,
        cast(null as bigint) as latency_ms,
        cast(null as varchar[]) as retrieved_document_ids,
        started_at as sent_at,
        exported_at,
        _export_date,
        _file_path,
        _line_number,
        _batch_id
    from new_user_messages

),

turn_numbers as (

    select
        turn_span_id as span_id,
        trace_id,
        cast(sum(input_tokens) filter (where is_inference) as bigint) as input_tokens,
        cast(sum(output_tokens) filter (where is_inference) as bigint) as output_tokens,
        -- the last inference span of the turn (failed calls only when nothing else answered)
        arg_max(
            coalesce(response_model, request_model),
            (status_code != 2 and error_type is null, started_at, span_id)
        ) filter (where is_inference and coalesce(response_model, request_model) is not null) as model_name,
        flatten(list(
            list_transform(
                coalesce({{ otel_json_list('retrieval_documents') }}, []),
                lambda document: document ->> 'id'
            ) order by started_at, span_id
        ) filter (where operation_name = 'retrieval')) as retrieved_document_ids,
        max(_batch_id) as _batch_id
    from spans
    where turn_span_id is not null
    group by 1, 2

),

assistant_messages as (

    -- the turn's numbers go to its first answer (the turn's assistant message) only
    select
        answers.message_id,
        answers.conversation_id,
        'assistant' as message_role,
        answers.message_text,
        case when answers.is_first then turn_numbers.model_name end as model_name,
        case when answers.is_first then turn_numbers.input_tokens end as input_tokens,
        case when answers.is_first then turn_numbers.output_tokens end as output_tokens,
        case
            when answers.is_first then {{ milliseconds_between('answers.started_at', 'answers.ended_at') }}
        end as latency_ms,
        case
            when answers.is_first
                then nullif(list_filter(turn_numbers.retrieved_document_ids, lambda id: id is not null), [])
        end as retrieved_document_ids,
        answers.ended_at as sent_at,
        answers.exported_at,
        answers._export_date,
        answers._file_path,
        answers._line_number,
        greatest(answers._batch_id, turn_numbers._batch_id) as _batch_id
    from (
        select
            *,
            span_id || ':out:' || cast(message_index as varchar) as message_id,
            span_id || ':out:' || cast(message_index as varchar) = turn_message_id as is_first
        from turn_messages
        where
            direction = 'output'
            and coalesce(message_role, 'assistant') = 'assistant'
            and nullif(trim(message_text), '') is not null
    ) as answers
    left join turn_numbers
        on
            answers.trace_id = turn_numbers.trace_id
            and answers.span_id = turn_numbers.span_id

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
        cast(null as double) as source_cost_usd,

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
