{#- Cast that yields null instead of failing when the value does not fit. -#}
{% macro try_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('try_cast', 'chatbot_analytics')(expression, data_type)) }}
{%- endmacro %}

{% macro default__try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{#- Parse an ISO-8601 text that carries an offset or Z into a UTC timestamp
    (without time zone). Texts without an offset, or that are not valid
    timestamps, give null: the contract promises an offset, and guessing a zone
    would silently shift events. -#}
{% macro parse_timestamp_utc(expression) -%}
    {{ return(adapter.dispatch('parse_timestamp_utc', 'chatbot_analytics')(expression)) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp_utc(expression) -%}
    case
        when regexp_matches({{ expression }}, '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|z|[+-]\d{2}(:?\d{2})?)$')
            then try_cast({{ expression }} as timestamptz) at time zone 'UTC'
    end
{%- endmacro %}

{#- Spark: the same accepted shapes (a missing seconds part and a lower-case z are
    normalised first, which Spark's cast would otherwise reject); the session time
    zone is UTC (profiles), so the result is the UTC wall-clock time. -#}
{% macro spark__parse_timestamp_utc(expression) -%}
    case
        when {{ expression }} rlike '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|z|[+-]\\d{2}(:?\\d{2})?)$'
            then try_cast(
                regexp_replace(
                    upper({{ expression }}),
                    '^(\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2})([Z+-])',
                    '$1:00$2'
                ) as timestamp
            )
    end
{%- endmacro %}

{#- Parse a text in the form `YYYY-MM-DD HH:MM:SS[.ffffff]` that is UTC by convention and
    carries no offset (Langfuse's blob-storage export) into a timestamp; anything else
    (e.g. ISO with T and Z) gives null, the staging models' `bad_timestamp:<field>`. -#}
{% macro parse_timestamp_naive_utc(expression) -%}
    {{ return(adapter.dispatch('parse_timestamp_naive_utc', 'chatbot_analytics')(expression)) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp_naive_utc(expression) -%}
    case
        when regexp_matches({{ expression }}, '^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$')
            then try_cast({{ expression }} as timestamp)
    end
{%- endmacro %}

{% macro spark__parse_timestamp_naive_utc(expression) -%}
    case
        when {{ expression }} rlike '^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?$'
            then try_cast({{ expression }} as timestamp)
    end
{%- endmacro %}
