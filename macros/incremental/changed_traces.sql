{#
    Incremental processing by changed trace: the models of the Langfuse and OTel sources
    (issue 14; contract v1's models go by conversation, changed_conversations.sql).

    A trace's spans (observations) are resolved together and only together: its conversation,
    its turns and their answers depend on every span of the trace and on nothing else. So a
    per-trace model (delete+insert on trace_id) recomputes, on an incremental run, exactly the
    traces that have a staging row from a batch after its watermark `_processed_batch_id`
    (the latest staging batch it has seen), reading their whole history: late spans of any age
    fold in, and a night costs what its new spans touch.

    The mapped models after them go by conversation (delete+insert on conversation_id, with
    the pre-hook delete_changed_trace_conversations): the conversations of the traces their
    input recomputed after their own watermark, plus the conversations those traces belonged
    to before (`_former_conversation_ids`: a late span or a re-export can move a trace into a
    session), so no row is left under a conversation that lost its last trace.
    Their `_processed_batch_id` stays inside the source's models: int_<entity>s_unioned leaves
    it out (union_sources.sql), contract v1's models keep their own.
#}

{#- Filter an input to the traces that have a row in one of `inputs` (staging models with
    trace_id and _batch_id) after this model's watermark; on a full refresh, nothing. -#}
{% macro changed_traces_only(inputs, column='trace_id', keyword='where') -%}
    {%- if is_incremental() -%}
        {{ keyword }} {{ column }} in (
            {%- for input in inputs %}
            select trace_id from {{ input }}
            where _batch_id > {{ chatbot_analytics.own_watermark() }}
            {%- if not loop.last %}
            union
            {%- endif %}
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}

{#- The staging batch up to which this run processes: the latest of `inputs` (stored on
    every row as `_processed_batch_id`). -#}
{% macro staged_batch_id(inputs) -%}
    cast(greatest(
        {%- for input in inputs %}
        (select coalesce(max(_batch_id), 0) from {{ input }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as bigint)
{%- endmacro %}

{#- For a per-trace model on an incremental run: per recomputed trace, the conversations its
    rows in this model had before (and had had before that) other than `conversation_id`,
    else null. A CTE body over `changed` (trace_id, conversation_id of the new rows). -#}
{% macro former_trace_conversations(changed) -%}
    {%- if is_incremental() %}
    select
        trace_id,
        nullif(
            list_filter(old_conversation_ids, lambda former: former != conversation_id), []
        ) as former_conversation_ids
    from (
        select
            new_rows.trace_id,
            new_rows.conversation_id,
            list_distinct(flatten(list(
                list_append(coalesce(old_rows._former_conversation_ids, []), old_rows.conversation_id)
            ))) as old_conversation_ids
        from (select distinct trace_id, conversation_id from {{ changed }}) as new_rows
        inner join {{ this }} as old_rows
            on new_rows.trace_id = old_rows.trace_id
        group by 1, 2
    )
    {%- else %}
    select
        cast(null as varchar) as trace_id,
        cast(null as varchar[]) as former_conversation_ids
    where false
    {%- endif %}
{%- endmacro %}

{#- Filter an input of a mapped model to the conversations whose traces `resolved` (a
    per-trace model) recomputed after this model's watermark, and their former conversations;
    on a full refresh, nothing. -#}
{% macro changed_trace_conversations_only(resolved, column='conversation_id', keyword='where') -%}
    {%- if is_incremental() -%}
        {{ keyword }} {{ column }} in (
            select conversation_id from {{ resolved }}
            where _processed_batch_id > {{ chatbot_analytics.own_watermark() }}
            union
            select unnest(_former_conversation_ids) from {{ resolved }}
            where _processed_batch_id > {{ chatbot_analytics.own_watermark() }}
        )
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of a mapped model: delete the rows of the conversations this run recomputes, so
    a conversation that lost its last trace keeps no stale row. -#}
{% macro delete_changed_trace_conversations(resolved) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} {{ chatbot_analytics.changed_trace_conversations_only(resolved) }}
    {%- endif -%}
{%- endmacro %}
