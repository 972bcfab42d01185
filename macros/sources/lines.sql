{#
    The first steps every base model of a source system takes over its raw lines (one row
    per landing record, as accumulate/ingest.py loads them): keep the lineage, parse the
    line as a JSON object, and say why a line could not be read. DuckDB JSON functions:
    the source models are duckdb_only (dbt_project.yml).
#}

{#- source_records(relation): the raw lines with their lineage and `_record`, the line as a
    JSON object, or null when it is not valid JSON or not an object. -#}
{% macro source_records(relation) -%}
    select
        _file_path,
        _export_date,
        _line_number,
        _batch_id,
        _line,
        _line_error,
        -- the line itself, not json(_line): that copy of every line (OTLP lines average 8 KB and
        -- reach 130 KB) ran a standard-scale catch-up out of memory; JSON functions read text.
        -- One parse (try: null when not JSON), not json_valid and then json_type: each JSON call
        -- parses the whole line again and holds the parse of every line of its vector
        case when try(json_type(_line)) = 'OBJECT' then _line end as _record
    from {{ relation }}
{%- endmacro %}

{#- unreadable_line_reason(not_an_object): the `when` branches that quarantine a line that
    could not be read: the ingest's line error, then malformed JSON, then JSON that is not an
    object (`not_an_object` names that reason, e.g. invalid_otlp_json for OTLP). -#}
{% macro unreadable_line_reason(not_an_object='not_a_json_object', malformed='malformed_json') -%}
            when _line_error is not null then _line_error
            when _record is null then
                case when json_valid(_line) then '{{ not_an_object }}' else '{{ malformed }}' end
{%- endmacro %}
