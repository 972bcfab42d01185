{#- The topic rows of rpt_kb_content_gaps: `union all` of (conversation, 'unknown', topic)
    for each topic of a conversation's unlabelled messages, small talk and the pending pool
    left out. DuckDB only, like the topics step that writes them (Python, the warehouse
    schema `topics`); elsewhere (Spark) the report has intent rows only. -#}
{% macro content_gap_topic_subjects(conversations) -%}
    {{ return(adapter.dispatch('content_gap_topic_subjects', 'chatbot_analytics')(conversations)) }}
{%- endmacro %}

{% macro default__content_gap_topic_subjects(conversations) -%}
{%- endmacro %}

{% macro duckdb__content_gap_topic_subjects(conversations) -%}
    union all

    select distinct
        message_topics.conversation_id,
        'unknown' as intent,
        topics.topic_id,
        topics.topic_label

    from {{ ref('stg_topics__message_topics') }} as message_topics
    inner join {{ conversations }}
        on message_topics.conversation_id = {{ conversations }}.conversation_id
    inner join {{ ref('dim_topics') }} as topics
        on message_topics.topic_id = topics.topic_id
    where message_topics.topic_id != -1 and not topics.is_small_talk
{%- endmacro %}
