{#-
    OTel conversations (gen_ai.conversation.id, else the trace) as contract v1 conversations
    (docs/sources/otel-genai.md, "conversations"). OTel carries no channel, locale, end reason or
    experiment variant: null. `ended_at` is the last activity, not an end signal.
    Incremental by conversation, as int_messages_mapped_from_* (macros/incremental/changed_traces.sql).
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

genai_spans as (

    select * from spans
    where is_genai

),

bots as (

    -- the earliest invoke_agent span names the bot, else the service of the earliest GenAI span
    select
        conversation_id,
        coalesce(
            arg_min(agent_name, started_at) filter (where is_agent and agent_name is not null),
            arg_min(service_name, started_at) filter (where service_name is not null)
        ) as bot_id,
        coalesce(
            arg_min(agent_version, started_at) filter (where is_agent and agent_version is not null),
            arg_min(service_version, started_at) filter (where service_version is not null)
        ) as bot_version,
        min(started_at) as started_at,
        max(ended_at) as ended_at
    from genai_spans
    group by 1

),

aggregated as (

    select
        conversation_id,
        arg_min(user_id, started_at) filter (where user_id is not null) as user_id,
        max(exported_at) as exported_at,
        max(_export_date) as _export_date,
        arg_max(_file_path, _batch_id) as _file_path,
        arg_max(_line_number, _batch_id) as _line_number,
        max(_batch_id) as _batch_id
    from spans
    group by 1

),

final as (

    select
        -- ids
        bots.conversation_id,
        aggregated.user_id,
        bots.bot_id,

        -- strings
        cast(null as varchar) as channel,
        cast(null as varchar) as locale,
        bots.bot_version,
        cast(null as varchar) as end_reason,
        cast(null as varchar) as experiment_variant,
        cast(null as json) as attributes,

        -- timestamps (UTC)
        bots.started_at,
        bots.ended_at,
        aggregated.exported_at,

        -- lineage
        aggregated._export_date,
        aggregated._file_path,
        aggregated._line_number,
        aggregated._batch_id,
        (select max(_processed_batch_id) from {{ resolved }}) as _processed_batch_id

    from bots
    inner join aggregated
        on bots.conversation_id = aggregated.conversation_id

)

select * from final
