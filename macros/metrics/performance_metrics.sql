{#
    One definition of the performance metrics of rpt_daily_performance and
    rpt_weekly_performance (and any other period): `performance_counts()` is the
    select list of additive counts over fct_conversations rows, `performance_rates()`
    the rates and shares computed from those counts (docs blocks of the same names
    define them). rpt_period_performance uses the same macros for the report's periods.
#}
{% macro performance_outcomes() -%}
    {{ return(['resolved_confirmed', 'resolved_implied', 'escalated', 'abandoned', 'unengaged']) }}
{%- endmacro %}

{% macro performance_counts() -%}
        count(*) as conversations,
        count(case when is_engaged then conversation_id end) as engaged_conversations,
        count(distinct user_id) as users,
        sum(message_count) as messages,
        sum(user_message_count) as user_messages,
        sum(assistant_message_count) as assistant_messages,
        {%- for outcome in chatbot_analytics.performance_outcomes() %}
        count(case when outcome = '{{ outcome }}' then conversation_id end)
            as {{ outcome }}_conversations,
        {%- endfor %}
        sum(fallback_event_count) as fallback_events,
        count(case when has_user then conversation_id end) as conversations_with_user,
        count(case when has_user and is_recontacted then conversation_id end)
            as recontacted_conversations,
        avg(csat_score) as csat_avg,
        count(csat_score) as csat_responses,
        sum(thumbs_up_count) as thumbs_up,
        sum(thumbs_down_count) as thumbs_down,
        sum(input_tokens) as input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cost_usd) as cost_usd,
        sum(unpriced_message_count) as unpriced_messages,
        avg(case when is_engaged then quality_score end) as quality_score
{%- endmacro %}

{% macro performance_rates() -%}
        {{ chatbot_analytics.safe_ratio('escalated_conversations', 'engaged_conversations') }}
            as escalation_rate,
        1 - {{ chatbot_analytics.safe_ratio('escalated_conversations', 'engaged_conversations') }}
            as containment_rate,
        {{ chatbot_analytics.safe_ratio(
            'resolved_confirmed_conversations + resolved_implied_conversations',
            'engaged_conversations'
        ) }} as resolution_rate,
        {{ chatbot_analytics.safe_ratio('resolved_confirmed_conversations', 'engaged_conversations') }}
            as confirmed_resolution_rate,
        {{ chatbot_analytics.safe_ratio('abandoned_conversations', 'engaged_conversations') }}
            as abandonment_rate,
        {{ chatbot_analytics.safe_ratio('fallback_events', 'assistant_messages') }} as fallback_rate,
        {{ chatbot_analytics.safe_ratio('recontacted_conversations', 'conversations_with_user') }}
            as recontact_rate,
        {{ chatbot_analytics.safe_ratio('thumbs_up', 'thumbs_up + thumbs_down') }}
            as thumbs_up_ratio,
        {{ chatbot_analytics.safe_ratio(
            'cost_usd',
            'resolved_confirmed_conversations + resolved_implied_conversations'
        ) }} as cost_per_resolved_usd,
        {%- for outcome in chatbot_analytics.performance_outcomes() %}
        {{ chatbot_analytics.safe_ratio(outcome ~ '_conversations', 'conversations') }}
            as {{ outcome }}_share{% if not loop.last %},{% endif %}
        {%- endfor %}
{%- endmacro %}

{#- The typed output columns of a performance report, after its grain columns. -#}
{% macro performance_columns() -%}
    {%- set counts = [
        'conversations', 'engaged_conversations', 'users', 'messages', 'user_messages',
        'assistant_messages',
    ] -%}
    {%- for outcome in chatbot_analytics.performance_outcomes() -%}
        {%- do counts.append(outcome ~ '_conversations') -%}
    {%- endfor -%}
    {%- do counts.extend([
        'fallback_events', 'conversations_with_user', 'recontacted_conversations',
        'answered_turns', 'csat_responses', 'thumbs_up', 'thumbs_down', 'input_tokens',
        'output_tokens', 'unpriced_messages',
    ]) -%}
    {%- set doubles = [
        'escalation_rate', 'containment_rate', 'resolution_rate', 'confirmed_resolution_rate',
        'abandonment_rate', 'fallback_rate', 'recontact_rate', 'latency_p50_ms',
        'latency_p95_ms', 'latency_p99_ms', 'csat_avg', 'thumbs_up_ratio', 'cost_usd',
        'cost_per_resolved_usd', 'quality_score',
    ] -%}
    {%- for outcome in chatbot_analytics.performance_outcomes() -%}
        {%- do doubles.append(outcome ~ '_share') -%}
    {%- endfor -%}
    {%- for column in counts %}
        cast(coalesce({{ column }}, 0) as bigint) as {{ column }},
    {%- endfor %}
    {%- for column in doubles %}
        cast({{ column }} as double) as {{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The latency columns of a performance report, over fct_turns rows: answered turns
    and the exact (interpolated) p50 / p95 / p99 of the response latency. -#}
{% macro latency_percentiles(column='response_latency_ms') -%}
        count(*) as answered_turns,
        {{- chatbot_analytics.percentile_cont_columns(
            column, {'latency_p50_ms': 0.5, 'latency_p95_ms': 0.95, 'latency_p99_ms': 0.99}
        ) }}
{%- endmacro %}
