{#
    Conversation quality score: the weighted mean of its components, each in [0, 1].
    The weights live here only (see the `quality_score` docs block). They are whole
    percentages adding up to 100, so the score stays in [0, 1] and is computed with
    one final division (no accumulated rounding of fractional weights).
#}
{% macro quality_score_weights() -%}
    {{ return({
        'resolution_component': 35,
        'fallback_free_component': 20,
        'feedback_component': 20,
        'no_repetition_component': 15,
        'responsiveness_component': 10,
    }) }}
{%- endmacro %}

{#- The weighted sum of the component columns (qualified by `relation` if given). -#}
{% macro quality_score(relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- set weights = chatbot_analytics.quality_score_weights() -%}
    {%- if weights.values() | sum != 100 -%}
        {{ exceptions.raise_compiler_error('quality_score_weights must add up to 100') }}
    {%- endif -%}
    (
        {%- for component, weight in weights.items() %}
        {{ weight }} * {{ prefix }}{{ component }}{% if not loop.last %} +{% endif %}
        {%- endfor %}
    ) / 100.0
{%- endmacro %}
