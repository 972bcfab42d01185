{#-
    Langfuse sessions (else traces) as contract v1 conversations (docs/sources/langfuse.md).
    Langfuse carries no channel, locale, end reason or experiment variant: null. `ended_at`
    is the last activity, not an end signal.
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

roots as (

    -- the earliest root observation names the bot and its release
    select
        conversation_id,
        trace_name as bot_id,
        release as bot_version
    from observations
    where coalesce(is_root_observation, parent_observation_id is null)
    qualify row_number() over (
        partition by conversation_id order by start_time, observation_id
    ) = 1

),

aggregated as (

    select
        conversation_id,
        arg_min(user_id, start_time) filter (where user_id is not null) as user_id,
        min(start_time) as started_at,
        max(coalesce(end_time, start_time)) as ended_at,
        max(updated_at) as exported_at,
        max(_export_date) as _export_date,
        arg_max(_file_path, _batch_id) as _file_path,
        arg_max(_line_number, _batch_id) as _line_number,
        max(_batch_id) as _batch_id
    from observations
    group by 1

),

final as (

    select
        -- ids
        aggregated.conversation_id,
        aggregated.user_id,
        roots.bot_id,

        -- strings
        cast(null as varchar) as channel,
        cast(null as varchar) as locale,
        roots.bot_version,
        cast(null as varchar) as end_reason,
        cast(null as varchar) as experiment_variant,
        cast(null as json) as attributes,

        -- timestamps (UTC)
        aggregated.started_at,
        aggregated.ended_at,
        aggregated.exported_at,

        -- lineage
        aggregated._export_date,
        aggregated._file_path,
        aggregated._line_number,
        aggregated._batch_id,
        (select max(_processed_batch_id) from {{ resolved }}) as _processed_batch_id

    from aggregated
    left join roots
        on aggregated.conversation_id = roots.conversation_id

)

select * from final
