{#
    One definition of the tool-usage metrics of rpt_tool_usage (per day) and
    rpt_period_tool_usage (per report period): `tool_usage_counts()` aggregates
    fct_tool_calls rows, `tool_usage_columns()` types them and adds the failure rate.
#}
{% macro tool_usage_counts() -%}
        count(*) as tool_calls,
        count(case when is_failed then tool_call_id end) as failed_tool_calls,
        count(distinct conversation_id) as conversations,
        avg(tool_duration_ms) as duration_avg_ms,
        {{- chatbot_analytics.percentile_cont_columns(
            'tool_duration_ms', {'duration_p50_ms': 0.5, 'duration_p95_ms': 0.95}
        ) }}
{%- endmacro %}

{#- The typed output columns of a tool-usage report after its grain columns. -#}
{% macro tool_usage_columns() -%}
        cast(tool_calls as bigint) as tool_calls,
        cast(failed_tool_calls as bigint) as failed_tool_calls,
        cast(conversations as bigint) as conversations,
        cast({{ chatbot_analytics.safe_ratio('failed_tool_calls', 'tool_calls') }} as double) as failure_rate,
        cast(duration_avg_ms as double) as duration_avg_ms,
        cast(duration_p50_ms as double) as duration_p50_ms,
        cast(duration_p95_ms as double) as duration_p95_ms
{%- endmacro %}
