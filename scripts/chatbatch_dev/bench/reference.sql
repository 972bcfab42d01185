-- Benchmark reference: the headline figures of rpt_daily_performance computed by ONE
-- hand-written DuckDB query straight from the landing JSONL(.gz) files, no warehouse.
-- It is what the engine can do at best; the dbt build is compared against it.
--
-- Placeholders (filled by chatbatch.bench.reference): ${landing} (landing folder),
-- ${until} (last export date read, ISO), ${prices} (seeds/model_prices.csv).
-- Same definitions as the dbt models (models/intermediate/conversations/*.sql,
-- macros/metrics/performance_metrics.sql), restricted to what the headline metrics need.
-- Grain: conversation_date x channel x bot_id x bot_version.

create or replace temp macro utc(text_value) as
    try_cast(text_value as timestamptz) at time zone 'UTC';

create or replace temp table bench_daily_report as

with

conversation_lines as (

    select
        conversation_id,
        user_id,
        lower(trim(channel)) as channel,
        bot_id,
        bot_version,
        utc(started_at) as started_at,
        utc(ended_at) as ended_at,
        utc(exported_at) as exported_at
    from read_json(
        '${landing}/conversations/*/*.jsonl*',
        format = 'newline_delimited', hive_partitioning = true, ignore_errors = true,
        hive_types = {'export_date': 'DATE'},
        columns = {
            conversation_id: 'VARCHAR', user_id: 'VARCHAR', channel: 'VARCHAR',
            bot_id: 'VARCHAR', bot_version: 'VARCHAR', started_at: 'VARCHAR',
            ended_at: 'VARCHAR', exported_at: 'VARCHAR'
        }
    )
    where export_date <= date '${until}'

),

-- latest export of a conversation wins (start export, then end export)
conversations as (

    select * from conversation_lines
    qualify row_number() over (partition by conversation_id order by exported_at desc) = 1

),

message_lines as (

    select
        message_id,
        conversation_id,
        lower(trim(role)) as message_role,
        utc(sent_at) as sent_at,
        model as model_name,
        usage.input_tokens as input_tokens,
        usage.output_tokens as output_tokens,
        utc(exported_at) as exported_at
    from read_json(
        '${landing}/messages/*/*.jsonl*',
        format = 'newline_delimited', hive_partitioning = true, ignore_errors = true,
        hive_types = {'export_date': 'DATE'},
        columns = {
            message_id: 'VARCHAR', conversation_id: 'VARCHAR', role: 'VARCHAR',
            sent_at: 'VARCHAR', model: 'VARCHAR',
            usage: 'STRUCT(input_tokens BIGINT, output_tokens BIGINT)', exported_at: 'VARCHAR'
        }
    )
    where export_date <= date '${until}'

),

event_lines as (

    select
        event_id,
        conversation_id,
        lower(trim(event_type)) as event_type,
        utc(exported_at) as exported_at
    from read_json(
        '${landing}/events/*/*.jsonl*',
        format = 'newline_delimited', hive_partitioning = true, ignore_errors = true,
        hive_types = {'export_date': 'DATE'},
        columns = {
            event_id: 'VARCHAR', conversation_id: 'VARCHAR', event_type: 'VARCHAR',
            exported_at: 'VARCHAR'
        }
    )
    where export_date <= date '${until}'

),

feedback_lines as (

    select
        feedback_id,
        conversation_id,
        message_id,
        lower(trim(kind)) as feedback_kind,
        value as feedback_value,
        utc(submitted_at) as submitted_at,
        utc(exported_at) as exported_at
    from read_json(
        '${landing}/feedback/*/*.jsonl*',
        format = 'newline_delimited', hive_partitioning = true, ignore_errors = true,
        hive_types = {'export_date': 'DATE'},
        columns = {
            feedback_id: 'VARCHAR', conversation_id: 'VARCHAR', message_id: 'VARCHAR',
            kind: 'VARCHAR', value: 'BIGINT', submitted_at: 'VARCHAR', exported_at: 'VARCHAR'
        }
    )
    where export_date <= date '${until}'

),

price_periods as (

    select
        model_name,
        input_usd_per_1k_tokens,
        output_usd_per_1k_tokens,
        cast(valid_from as timestamp) as valid_from_at,
        cast(lead(valid_from) over (partition by model_name order by valid_from) as timestamp)
            as valid_to_at
    from read_csv('${prices}', header = true)

),

-- re-deliveries are byte-identical: keep one line per key
events as (

    select events.event_id, events.conversation_id, events.event_type
    from event_lines as events
    semi join conversations on events.conversation_id = conversations.conversation_id
    qualify row_number() over (partition by events.event_id order by events.exported_at desc) = 1

),

feedback as (

    select * from feedback_lines
    qualify row_number() over (partition by feedback_id order by exported_at desc) = 1

),

latest_thumbs as (

    select message_id, feedback_value as thumbs_value
    from feedback
    where feedback_kind = 'thumbs' and message_id is not null
    qualify row_number() over (
        partition by message_id order by submitted_at desc, feedback_id desc
    ) = 1

),

unique_messages as (

    select messages.*
    from message_lines as messages
    semi join conversations on messages.conversation_id = conversations.conversation_id
    qualify row_number() over (partition by messages.message_id order by messages.exported_at desc) = 1

),

messages as (

    select
        *,
        row_number() over (partition by conversation_id order by sent_at, message_id) as message_sequence
    from unique_messages

),

messages_enriched as (

    select
        messages.*,
        messages.input_tokens * prices.input_usd_per_1k_tokens / 1000.0
        + messages.output_tokens * prices.output_usd_per_1k_tokens / 1000.0 as cost_usd,
        latest_thumbs.thumbs_value,
        -- the reply of a user message: the first assistant message after it
        first_value(case when messages.message_role = 'assistant' then messages.sent_at end ignore nulls)
            over (
                partition by messages.conversation_id order by messages.message_sequence
                rows between 1 following and unbounded following
            ) as reply_sent_at,
        max(case when messages.message_role = 'assistant' then messages.message_sequence end)
            over (partition by messages.conversation_id) as last_assistant_sequence,
        max(case when messages.message_role != 'system' then messages.message_sequence end)
            over (partition by messages.conversation_id) as last_non_system_sequence
    from messages
    left join price_periods as prices
        on
            messages.model_name = prices.model_name
            and messages.sent_at >= prices.valid_from_at
            and (messages.sent_at < prices.valid_to_at or prices.valid_to_at is null)
    left join latest_thumbs on messages.message_id = latest_thumbs.message_id

),

message_stats as (

    select
        conversation_id,
        count(case when message_role = 'user' then 1 end) as user_message_count,
        count(case when message_role = 'assistant' then 1 end) as assistant_message_count,
        count(case when message_role = 'human_agent' then 1 end) as human_agent_message_count,
        sum(cost_usd) as cost_usd,
        count(case when thumbs_value = -1 then 1 end) as thumbs_down_count,
        max(case when message_sequence = last_non_system_sequence then message_role end)
            as last_message_role,
        coalesce(
            max(case when message_sequence = last_assistant_sequence and thumbs_value = 1 then 1 end), 0
        ) = 1 as has_last_assistant_thumbs_up,
        max(sent_at) as last_message_at
    from messages_enriched
    group by 1

),

event_stats as (

    select
        conversation_id,
        count(case when event_type = 'fallback' then 1 end) as fallback_event_count,
        count(case when event_type = 'handoff_requested' then 1 end) as handoff_requested_event_count,
        count(case when event_type = 'resolution_confirmed' then 1 end)
            as resolution_confirmed_event_count,
        count(case when event_type = 'resolution_denied' then 1 end) as resolution_denied_event_count
    from events
    group by 1

),

csat as (

    select conversation_id, feedback_value as csat_score
    from feedback
    where feedback_kind = 'csat' and feedback_value is not null
    qualify row_number() over (
        partition by conversation_id order by submitted_at desc, feedback_id desc
    ) = 1

),

conversation_facts as (

    select
        conversations.conversation_id,
        cast(conversations.started_at as date) as conversation_date,
        conversations.channel,
        conversations.bot_id,
        coalesce(conversations.bot_version, 'unknown') as bot_version,
        coalesce(message_stats.user_message_count, 0) as user_message_count,
        coalesce(message_stats.assistant_message_count, 0) as assistant_message_count,
        coalesce(message_stats.human_agent_message_count, 0) as human_agent_message_count,
        coalesce(message_stats.thumbs_down_count, 0) as thumbs_down_count,
        coalesce(message_stats.has_last_assistant_thumbs_up, false) as has_last_assistant_thumbs_up,
        message_stats.last_message_role,
        message_stats.cost_usd,
        coalesce(event_stats.fallback_event_count, 0) as fallback_event_count,
        coalesce(event_stats.handoff_requested_event_count, 0) as handoff_requested_event_count,
        coalesce(event_stats.resolution_confirmed_event_count, 0) as resolution_confirmed_event_count,
        coalesce(event_stats.resolution_denied_event_count, 0) as resolution_denied_event_count,
        csat.csat_score,
        -- recontact: the same user's next conversation starts within 24 h of this one's end
        conversations.user_id is not null
        and coalesce(
            lead(conversations.started_at) over (
                partition by conversations.user_id
                order by conversations.started_at, conversations.conversation_id
            ) <= coalesce(conversations.ended_at, message_stats.last_message_at, conversations.started_at)
            + interval 24 hour,
            false
        ) as is_recontacted
    from conversations
    left join message_stats on conversations.conversation_id = message_stats.conversation_id
    left join event_stats on conversations.conversation_id = event_stats.conversation_id
    left join csat on conversations.conversation_id = csat.conversation_id

),

signals as (

    select
        *,
        user_message_count >= 1 and assistant_message_count >= 1 as is_engaged,
        handoff_requested_event_count > 0 or human_agent_message_count > 0 as is_escalated,
        thumbs_down_count > 0 or coalesce(csat_score <= 2, false) as has_negative_feedback
    from conversation_facts

),

classified as (

    select
        *,
        case
            when not is_engaged then 'unengaged'
            when is_escalated then 'escalated'
            when resolution_confirmed_event_count > 0 or has_last_assistant_thumbs_up
                then 'resolved_confirmed'
            when
                coalesce(last_message_role = 'assistant', false)
                and fallback_event_count = 0
                and not has_negative_feedback
                and resolution_denied_event_count = 0
                and not is_recontacted
                then 'resolved_implied'
            else 'abandoned'
        end as outcome
    from signals

),

conversation_counts as (

    select
        conversation_date,
        channel,
        bot_id,
        bot_version,
        count(*) as conversations,
        count(case when is_engaged then 1 end) as engaged_conversations,
        count(case when outcome = 'escalated' then 1 end) as escalated_conversations,
        count(case when outcome in ('resolved_confirmed', 'resolved_implied') then 1 end)
            as resolved_conversations,
        sum(fallback_event_count) as fallback_events,
        sum(assistant_message_count) as assistant_messages,
        avg(csat_score) as csat_avg,
        sum(cost_usd) as cost_usd
    from classified
    group by 1, 2, 3, 4

),

latency as (

    select
        cast(conversations.started_at as date) as conversation_date,
        conversations.channel,
        conversations.bot_id,
        coalesce(conversations.bot_version, 'unknown') as bot_version,
        quantile_cont(epoch_ms(turns.reply_sent_at) - epoch_ms(turns.sent_at), 0.5) as latency_p50_ms,
        quantile_cont(epoch_ms(turns.reply_sent_at) - epoch_ms(turns.sent_at), 0.95) as latency_p95_ms
    from messages_enriched as turns
    inner join conversations on turns.conversation_id = conversations.conversation_id
    where turns.message_role = 'user' and turns.reply_sent_at is not null
    group by 1, 2, 3, 4

)

select
    counts.conversation_date,
    counts.channel,
    counts.bot_id,
    counts.bot_version,
    counts.conversations,
    counts.engaged_conversations,
    counts.escalated_conversations,
    counts.resolved_conversations,
    counts.escalated_conversations / nullif(counts.engaged_conversations, 0) as escalation_rate,
    1 - counts.escalated_conversations / nullif(counts.engaged_conversations, 0) as containment_rate,
    counts.resolved_conversations / nullif(counts.engaged_conversations, 0) as resolution_rate,
    counts.fallback_events / nullif(counts.assistant_messages, 0) as fallback_rate,
    latency.latency_p50_ms,
    latency.latency_p95_ms,
    counts.csat_avg,
    counts.cost_usd
from conversation_counts as counts
left join latency
    on
        counts.conversation_date = latency.conversation_date
        and counts.channel = latency.channel
        and counts.bot_id = latency.bot_id
        and counts.bot_version = latency.bot_version
order by 1, 2, 3, 4;
