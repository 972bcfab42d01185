{#
    Incremental processing by changed conversation.

    Every per-conversation model (intermediate, fct_*) is incremental with
    delete+insert on conversation_id. On an incremental run it recomputes exactly the
    conversations that int_conversations_changed lists for batches it has not
    processed yet, reading those conversations' full history from its inputs: late
    arrivals of any age fold in, and a night costs what its new data touches.
    Each model keeps its own watermark in `_processed_batch_id`, so a run that died
    half-way is caught up by the next one, model by model.
#}

{#- This model's watermark: the batch its rows were processed up to (0 on a first run);
    also read by changed_traces.sql. -#}
{% macro own_watermark() -%}
    (select coalesce(max(_processed_batch_id), 0) from {{ this }})
{%- endmacro %}

{#- The ingest batch up to which this run processes (stored on every row). -#}
{% macro processed_batch_id() -%}
    cast((select coalesce(max(batch_id), 0) from {{ ref('int_conversations_changed') }}) as bigint)
{%- endmacro %}

{#- Filter an input to the conversations this incremental run must recompute; on a
    full refresh, nothing. `keyword` is `where` or `and`. `content_only` keeps only the
    conversations whose own rows changed (not those listed for a user's recontact). A backfill
    (vars backfill_start / backfill_end, ISO dates) adds every conversation that
    started in the window, and its users' other conversations.

    `rewritten_input=true` declares that the input is itself a per-conversation model of
    this chain whose rows carry the `_processed_batch_id` of the run that last recomputed
    their conversation, with a filter that covers this one's (a content_only input feeds
    only content_only readers). Every row this run needs then has `_processed_batch_id`
    above this model's watermark, and saying so lets DuckDB skip the row groups of older
    batches (rows are appended batch by batch): the scan costs the changed rows, not the
    history. A plain `conversation_id in (...)` cannot skip any row group, conversation ids
    being random. Not in a backfill (its window rows are restamped with the same batch).

    `staged_input=<the input's relation>` does the same for an input read from staging
    (`int_<entity>s_unioned`), whose rows keep the ingest batch that loaded them
    (`_batch_id`): a narrow first pass finds the oldest batch holding a row of a changed
    conversation, and the wide scan skips the row groups before it. Exact by construction
    (the bound is the minimum over the very rows the filter keeps); the scan then costs the
    batches since the oldest late arrival, not the history. -#}
{% macro changed_conversations_only(
    column='conversation_id',
    keyword='where',
    content_only=false,
    rewritten_input=false,
    staged_input=none
) -%}
    {%- if is_incremental() -%}
        {%- set window = chatbot_analytics.backfill_window() %}
        {{ keyword }}
        {%- if rewritten_input and not window %}
        _processed_batch_id > {{ chatbot_analytics.own_watermark() }}
        and
        {%- elif staged_input is not none %}
        _batch_id >= (
            select min(staged._batch_id)
            from {{ staged_input }} as staged
            where staged.{{ column }} in (
                {{- chatbot_analytics.changed_conversation_ids(content_only, window) }}
            )
        )
        and
        {%- endif %} {{ column }} in ({{ chatbot_analytics.changed_conversation_ids(content_only, window) }})
    {%- endif -%}
{%- endmacro %}

{#- The conversations an incremental run recomputes (the body of changed_conversations_only). -#}
{% macro changed_conversation_ids(content_only, window) -%}
            select changes.conversation_id
            from {{ ref('int_conversations_changed') }} as changes
            where
                (
                    changes.batch_id > {{ chatbot_analytics.own_watermark() }}
                    {%- if content_only %}
                    and coalesce(changes.is_content_changed, true)
                    {%- endif %}
                )
                {%- if window %}
                or changes.conversation_date between {{ window[0] }} and {{ window[1] }}
                -- and the same users' other conversations (recontact depends on them)
                or changes.user_id in (
                    select in_window.user_id
                    from {{ ref('int_conversations_changed') }} as in_window
                    where in_window.conversation_date between {{ window[0] }} and {{ window[1] }}
                )
                {%- endif %}
        
{%- endmacro %}

{#- The rows of `candidates` (the CTE of a per-conversation model's new rows) the run writes.
    On an incremental run, a conversation listed only for its user's recontact (no batch this
    run processes changed its own rows) whose new row equals the stored one in every column
    but the stamp is left out: delete+insert then keeps the stored row with its older
    `_processed_batch_id`, so what keys on the stamp (the reports' changed days, the
    features' changed users, publish) skips it. Exact: the row kept is the row the run would
    have written. Without this, every conversation of a touched user was restamped, over the
    whole history: every night recomputed every day of the daily reports. The columns are
    the model's (its contract); when the stored table lacks one, every row is written. -#}
{% macro unchanged_rows_left_out(candidates, key='conversation_id') -%}
    {%- set stamp = '_processed_batch_id' -%}
    {%- set columns = model.columns.keys() | reject('equalto', stamp) | list -%}
    {%- set stored = [] -%}
    {%- if is_incremental() -%}
        {%- set stored = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- endif -%}
    {%- if is_incremental() and columns and columns | reject('in', stored) | list | length == 0 %}
    select {{ candidates }}.*
    from {{ candidates }}
    left join (
        select {{ columns | join(', ') }}
        from {{ candidates }}
        where {{ key }} in ({{ chatbot_analytics.recontact_only_conversation_ids() }})

        intersect

        select {{ columns | join(', ') }}
        from {{ this }}
        where {{ key }} in ({{ chatbot_analytics.recontact_only_conversation_ids() }})
    ) as unchanged
        on {{ candidates }}.{{ key }} = unchanged.{{ key }}
    where unchanged.{{ key }} is null
    {%- else %}
    select * from {{ candidates }}
    {%- endif %}
{%- endmacro %}

{#- The conversations this incremental run recomputes only for a user's recontact: listed
    by the batches after the model's watermark, none of them with is_content_changed. -#}
{% macro recontact_only_conversation_ids() -%}
            select changes.conversation_id
            from {{ ref('int_conversations_changed') }} as changes
            where changes.batch_id > {{ chatbot_analytics.own_watermark() }}
            group by changes.conversation_id
            having max(case when coalesce(changes.is_content_changed, true) then 1 else 0 end) = 0
{%- endmacro %}

{#- The periods a report must recompute: those holding fact rows written after the
    report's own watermark (plus, in a backfill, the window's). `column` is the period of an input row, `bucket` the same
    period computed from `facts.conversation_date` (both the day by default; e.g. the
    ISO week for a weekly report). -#}
{% macro changed_days_only(
    fact_relation,
    column='conversation_date',
    bucket='facts.conversation_date',
    keyword='where'
) -%}
    {%- if is_incremental() -%}
        {{ keyword }} {{ column }} in (
            select distinct {{ bucket }}
            from {{ fact_relation }} as facts
            where
                facts._processed_batch_id > {{ chatbot_analytics.own_watermark() }}
                {%- set window = chatbot_analytics.backfill_window() %}
                {%- if window %}
                or facts.conversation_date between {{ window[0] }} and {{ window[1] }}
                {%- endif %}
        )
    {%- endif -%}
{%- endmacro %}

{#- A report's watermark: the latest batch its fact input was processed up to. -#}
{% macro processed_batch_of(fact_relation) -%}
    cast((select coalesce(max(_processed_batch_id), 0) from {{ fact_relation }}) as bigint)
{%- endmacro %}

{#- The backfill window from vars, validated: two SQL date literals, or none. -#}
{% macro backfill_window() -%}
    {%- set start, end = var('backfill_start', none), var('backfill_end', none) -%}
    {%- if start is none or end is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for value in [start, end] -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value | string) -%}
            {{ exceptions.raise_compiler_error("backfill vars must be YYYY-MM-DD dates, got " ~ value) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(["cast('" ~ start ~ "' as date)", "cast('" ~ end ~ "' as date)"]) }}
{%- endmacro %}

{#- A pre-hook for per-conversation models whose conversations can lose all their rows
    (e.g. a thumbs rating withdrawn): delete the rows of the conversations this run
    recomputes, so delete+insert leaves nothing stale. `content_only` as in
    changed_conversations_only (the model's own filter must match). The run's own watermark may drop
    with them; it then recomputes a superset, which is harmless. -#}
{% macro delete_changed_conversations(content_only=false) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} {{ chatbot_analytics.changed_conversations_only(content_only=content_only) }}
    {%- endif -%}
{%- endmacro %}

{#- Filter an input to the users whose conversations were (re)computed in
    `fact_relation` after this model's watermark; on a full refresh, nothing.
    Per-user models (features) recompute these users from their full history. The
    same changed-rows filter as `changed_days_only`, keyed by user instead of period. -#}
{% macro changed_users_only(fact_relation, keyword='where', column='user_id') -%}
    {{ chatbot_analytics.changed_days_only(fact_relation, column=column, bucket='facts.user_id', keyword=keyword) }}
{%- endmacro %}
