{#-
    gen_ai.evaluation.result span events named as feedback (var otel_feedback_evaluations) as
    contract v1 feedback (docs/sources/otel-genai.md, "feedback"), on any span (a feedback span
    need not be a GenAI span). Other evaluations (e.g. LLM-as-judge) load but are not feedback;
    feedback failing its checks (stg_otel__span_events._feedback_quarantine_reason) is left out.
-#}

with evaluations as (

    select * from {{ ref('stg_otel__span_events') }}
    where feedback_kind is not null and _feedback_quarantine_reason is null

),

spans as (

    select * from {{ ref('int_otel_spans_resolved') }}

),

responses as (

    select
        response_id,
        any_value(turn_message_id) as turn_message_id
    from spans
    where response_id is not null and turn_message_id is not null
    group by 1

),

mapped as (

    select
        evaluations.span_id || ':eval:' || cast(evaluations.event_index as varchar) as feedback_id,
        spans.conversation_id,
        coalesce(spans.turn_message_id, responses.turn_message_id) as message_id,
        evaluations.feedback_kind,
        case
            when evaluations.feedback_kind = 'thumbs' then
                case when evaluations.score_value > 0 then 1 when evaluations.score_value <= 0 then -1 end
            when evaluations.feedback_kind = 'csat' then cast(evaluations.score_value as bigint)
        end as feedback_value,
        evaluations.explanation as comment_text,
        evaluations.occurred_at as submitted_at,
        evaluations.exported_at,
        evaluations._export_date,
        evaluations._file_path,
        evaluations._line_number,
        evaluations._batch_id
    from evaluations
    inner join spans
        on
            evaluations.trace_id = spans.trace_id
            and evaluations.span_id = spans.span_id
    left join responses
        on evaluations.response_id = responses.response_id

),

final as (

    select
        -- ids
        feedback_id,
        conversation_id,
        message_id,

        -- strings
        feedback_kind,
        comment_text,

        -- numerics
        cast(feedback_value as bigint) as feedback_value,

        -- timestamps (UTC)
        submitted_at,
        exported_at,

        -- lineage
        _export_date,
        _file_path,
        _line_number,
        _batch_id

    from mapped

)

select * from final
