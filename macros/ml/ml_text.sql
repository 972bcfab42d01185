{#
    The text keys of the ML datasets (models/ml/_ml__docs.md, ml_split_rule).

    ml_text_key: the exact normal form. Lower case, the redaction placeholders ([EMAIL],
    [PHONE], [CARD], [IBAN], [IPV4], [IPV6]) unified to one word `pii`, every run of
    characters that are neither letters nor digits (punctuation, whitespace) collapsed to
    one space, trimmed.

    ml_near_duplicate_key: the exact normal form with every run of digits replaced by `0`
    and every word of var ml_name_words (first names, cities, countries) replaced by
    `name`. It is a function of the exact normal form only, so two texts with the same
    exact normal form always share it: keying the split on it keeps both exact and near
    duplicates in one split.
#}

{% macro ml_text_key(column) -%}
    {{ return(adapter.dispatch('ml_text_key', 'chatbot_analytics')(column)) }}
{%- endmacro %}

{% macro default__ml_text_key(column) -%}
    trim(regexp_replace(
        regexp_replace(lower({{ column }}), '\\[(email|phone|card|iban|ipv4|ipv6)\\]', ' pii '),
        '[^\\p{L}\\p{N}]+', ' '
    ))
{%- endmacro %}

{% macro duckdb__ml_text_key(column) -%}
    trim(regexp_replace(
        regexp_replace(lower({{ column }}), '\[(email|phone|card|iban|ipv4|ipv6)\]', ' pii ', 'g'),
        '[^\p{L}\p{N}]+', ' ', 'g'
    ))
{%- endmacro %}

{% macro ml_near_duplicate_key(text_key) -%}
    {{ return(adapter.dispatch('ml_near_duplicate_key', 'chatbot_analytics')(text_key)) }}
{%- endmacro %}

{% macro default__ml_near_duplicate_key(text_key) -%}
    regexp_replace(
        regexp_replace({{ text_key }}, '\\p{N}+', '0'),
        '\\b({{ var("ml_name_words") | join("|") }})\\b', 'name'
    )
{%- endmacro %}

{% macro duckdb__ml_near_duplicate_key(text_key) -%}
    regexp_replace(
        regexp_replace({{ text_key }}, '\p{N}+', '0', 'g'),
        '\b({{ var("ml_name_words") | join("|") }})\b', 'name', 'g'
    )
{%- endmacro %}

{#- The ML split of a row: 'train', 'valid' or 'test' by the stable bucket of its key
    (vars ml_train_percent, ml_valid_percent): the same key lands in the same split on
    every run and every engine, forever. The datasets key it on a near-duplicate text key. -#}
{% macro ml_split(key) -%}
    case
        when {{ chatbot_analytics.stable_bucket(key, 100) }} < {{ var('ml_train_percent') }}
            then 'train'
        when {{ chatbot_analytics.stable_bucket(key, 100) }}
            < {{ var('ml_train_percent') }} + {{ var('ml_valid_percent') }}
            then 'valid'
        else 'test'
    end
{%- endmacro %}
