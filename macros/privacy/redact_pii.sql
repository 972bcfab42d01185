{#
    PII redaction and stable splitting for the ML and archive models.

    The detection rules live once, in Python (scripts/chatbatch/transform/redact.py): Luhn and
    IBAN checks and libphonenumber do not fit in a portable regex. Every engine calls the
    same function, registered on its connections under the name `redact_pii`: on DuckDB by
    the dbt-duckdb plugin `chatbatch.transform.dbt_plugin` (profiles.yml) as an Arrow
    function (one Python call per vector, a vectorised prefilter, Python only on the rows
    that may hold PII), on Spark by `chatbatch.accumulate.spark_load.register_functions`
    (row-wise).
#}

{#- `column` with emails, phones, card numbers, IBANs and IP addresses replaced by
    typed placeholders ([EMAIL], [PHONE], [CARD], [IBAN], [IPV4], [IPV6]). -#}
{% macro redact_pii(column) -%}
    {{ return(adapter.dispatch('redact_pii', 'chatbot_analytics')(column)) }}
{%- endmacro %}

{% macro default__redact_pii(column) -%}
    redact_pii({{ column }})
{%- endmacro %}

{% macro duckdb__redact_pii(column) -%}
    redact_pii(cast({{ column }} as varchar))
{%- endmacro %}

{#- A bucket in [0, buckets) from the md5 of `column`: the same on every engine and
    every run, so a key always lands in the same split. -#}
{% macro stable_bucket(column, buckets) -%}
    {{ return(adapter.dispatch('stable_bucket', 'chatbot_analytics')(column, buckets)) }}
{%- endmacro %}

{% macro default__stable_bucket(column, buckets) -%}
    (cast(conv(substr(md5({{ column }}), 1, 8), 16, 10) as bigint) % {{ buckets }})
{%- endmacro %}

{% macro duckdb__stable_bucket(column, buckets) -%}
    (cast(('0x' || substr(md5({{ column }}), 1, 8)) as bigint) % {{ buckets }})
{%- endmacro %}
