{#
    forget_rolled_back_batches()

    Pre-hook of every base model (dbt_project.yml). When the quality gate rejects a
    night, the runner rolls the night's batches back in the tables it owns: it deletes
    their lines from raw.* and their files from the manifest chatbatch.landing_files.
    This hook makes each base model follow: before anything new is inserted, it deletes
    its rows whose batch the manifest no longer lists. So no table dbt builds is ever
    edited behind dbt's back, and a run killed between the runner's rollback and this
    hook is repaired by the next build. The anti-join reads one integer column.

    Spark: no quality gate runs there (make test-spark builds once), so nothing to do.
#}
{% macro forget_rolled_back_batches() -%}
    {{ return(adapter.dispatch('forget_rolled_back_batches', 'chatbot_analytics')()) }}
{%- endmacro %}

{% macro default__forget_rolled_back_batches() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where _batch_id not in (
            select batch_id from {{ source('chatbatch', 'landing_files') }}
        )
    {%- endif -%}
{%- endmacro %}

{% macro spark__forget_rolled_back_batches() -%}
{%- endmacro %}
