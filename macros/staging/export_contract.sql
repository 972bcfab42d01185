{#
    The landing export contract of one entity, as `vars: export_contract` in
    dbt_project.yml defines it (the one definition; docs/export-contract.md explains
    it, chatbatch.contract reads the same file): key, fields (name, type, required,
    enum, staged, description) and checks (reason, fails_when).
#}
{% macro export_contract(entity) %}
    {% set contracts = var('export_contract') %}
    {% if entity not in contracts %}
        {{ exceptions.raise_compiler_error("export_contract: unknown entity '" ~ entity ~ "'") }}
    {% endif %}
    {{ return(contracts[entity]) }}
{% endmacro %}
