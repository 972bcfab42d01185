{#-
    Langfuse scores named as feedback (var langfuse_feedback_scores) as contract v1
    feedback (docs/sources/langfuse.md, "feedback"). Other scores (e.g. LLM-as-judge) are
    loaded but are not feedback.
-#}
{%- set labels = var('langfuse_categorical_values', {}) %}

with scores as (

    select * from {{ ref('stg_langfuse__scores') }}
    where feedback_kind is not null

),

observations as (

    select * from {{ ref('int_langfuse_observations_resolved') }}

),

trace_conversations as (

    select
        trace_id,
        any_value(conversation_id order by start_time) as conversation_id
    from observations
    group by trace_id

),

mapped as (

    select
        scores.score_id as feedback_id,
        coalesce(scores.session_id, trace_conversations.conversation_id, scores.trace_id) as conversation_id,
        -- a score on a generation belongs to the assistant message closing its turn
        case
            when scored.turn_answer_id is not null
                and scored.generation_role in ('answer', 'tool_step')
                then scored.turn_answer_id || ':out'
        end as message_id,
        scores.feedback_kind,
        case
            when scores.data_type = 'TEXT' then null
            when scores.data_type = 'CATEGORICAL' then
                case scores.string_value
                    {%- for label, value in labels.items() %}
                    when '{{ label }}' then {{ value }}
                    {%- endfor %}
                end
            when scores.feedback_kind = 'thumbs' then case when scores.score_value > 0 then 1 else -1 end
            when scores.feedback_kind = 'csat' then cast(scores.score_value as bigint)
        end as feedback_value,
        case
            when scores.data_type = 'TEXT' then scores.string_value
            when scores.feedback_kind = 'comment' then scores.comment_text
        end as comment_text,
        scores.scored_at as submitted_at,
        scores.updated_at as exported_at,
        scores._export_date,
        scores._file_path,
        scores._line_number,
        scores._batch_id
    from scores
    left join trace_conversations
        on scores.trace_id = trace_conversations.trace_id
    left join observations as scored
        on scores.observation_id = scored.observation_id

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
