{{ config(unique_key='trace_id') }}
{%- set feedback = var('otel_feedback_evaluations', {}) %}
{%- set staged = [ref('stg_otel__spans')] %}

{#- One row per event of a loaded span (`events[]`): the v1.36 per-message events
    (gen_ai.*.message, gen_ai.choice) and gen_ai.evaluation.result, with attributes as one JSON
    object. Incremental by trace (macros/incremental/changed_traces.sql): the events of every
    span of a trace with new spans are read again, so a span replaced by a later version takes
    its events with it. -#}

with spans as (

    select * from {{ ref('stg_otel__spans') }}
    {{ changed_traces_only(staged) }}

),

event_lists as (

    -- a select-list unnest streams span by span (list_with_positions)
    select
        trace_id,
        span_id,
        exported_at,
        _export_date,
        _file_path,
        _line_number,
        _batch_id,
        unnest({{ list_with_positions('cast(events as json[])') }}) as _event
    from spans

),

exploded as (

    select
        trace_id,
        span_id,
        cast(_event.position - 1 as integer) as event_index,
        _event.value as event,
        exported_at,
        _export_date,
        _file_path,
        _line_number,
        _batch_id
    from event_lists

),

typed as (

    select
        *,
        event ->> 'name' as event_name,
        {{ otel_attributes("event -> 'attributes'", depth=3) }} as attributes
    from exploded

),

evaluations as (

    select
        *,
        {{ otel_attr_text('attributes', 'gen_ai.evaluation.name') }} as evaluation_name,
        {{ otel_attr_text('attributes', 'gen_ai.evaluation.score.value') }} as _raw__score_value,
        {{ try_cast(otel_attr_text('attributes', 'gen_ai.evaluation.score.value'), 'double') }} as score_value,
        {{ otel_attr_text('attributes', 'gen_ai.evaluation.score.label') }} as score_label,
        {{ otel_attr_text('attributes', 'gen_ai.evaluation.explanation') }} as explanation,
        {{ otel_attr_text('attributes', 'gen_ai.response.id') }} as response_id,
        case
            when event_name != 'gen_ai.evaluation.result' then null
            {%- for kind in ['thumbs', 'csat', 'comment'] %}
            {%- set names = feedback.get(kind) or [] %}
            {%- if names %}
            when {{ otel_attr_text('attributes', 'gen_ai.evaluation.name') }} in ('{{ names | join("', '") }}') then '{{ kind }}'
            {%- endif %}
            {%- endfor %}
        end as feedback_kind
    from typed

),

final as (

    select
        -- ids
        trace_id,
        span_id,
        event_index,

        -- strings
        event_name,
        evaluation_name,
        score_label,
        explanation,
        response_id,
        feedback_kind,

        -- json
        attributes,

        -- numerics
        score_value,

        -- timestamps (UTC)
        {{ otel_unix_nano("event ->> 'timeUnixNano'") }} as occurred_at,
        exported_at,

        -- lineage
        _export_date,
        _file_path,
        _line_number,
        _batch_id,
        {{ staged_batch_id(staged) }} as _processed_batch_id,

        -- verdict of a feedback evaluation (others: null)
        case
            when feedback_kind is null then null
            when _raw__score_value is not null and score_value is null then 'bad_type:gen_ai.evaluation.score.value'
            when feedback_kind = 'csat'
                and (score_value is null or score_value != floor(score_value) or score_value < 1 or score_value > 5)
                then 'out_of_range:value'
        end as _feedback_quarantine_reason

    from evaluations

)

select * from final
