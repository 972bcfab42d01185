{#
    Helpers of the OpenTelemetry GenAI staging and mapping models (docs/sources/otel-genai.md).
    DuckDB only for now: the models using them are tagged duckdb_only.
#}

{#- A JSON value as a list of JSON values when it is an array, else null. -#}
{% macro otel_json_list(expression) -%}
    {#- try_cast, not `case when json_type(..) = 'ARRAY' then cast(..) end`: the same result
        (null unless an array) without a CASE over lists of large JSON texts, which ran out of
        memory on the standard scale's OTLP lines where the cast alone did not -#}
    try_cast({{ expression }} as json[])
{%- endmacro %}

{#-
    otel_any_value(value, depth)

    An OTLP/JSON `AnyValue` (`{"stringValue": ...}`, `boolValue`, `intValue` (string or number),
    `doubleValue`, `bytesValue`, `arrayValue.values[]`, `kvlistValue.values[{key, value}]`) as the
    JSON text of its plain value: a string, a number, a boolean, an array, an object, or null.
    SQL cannot recurse, so nesting is unrolled `depth` levels deep; deeper containers become
    null. Structured gen_ai.*.messages need 4 (messages > message > parts > part; a tool call's
    `arguments` object, level 5, is null). DuckDB's binding time of nested lambdas grows about
    3x per level (5 levels: seconds and ~1 GB; 8: out of memory), so keep depth small.
-#}
{% macro otel_any_value(value, depth=4) -%}
    {%- set item = 'otel_item_' ~ depth -%}
    coalesce(
        case
            when json_type({{ value }}, '$.stringValue') is not null
                then to_json({{ value }} ->> 'stringValue')::varchar
            when json_type({{ value }}, '$.boolValue') = 'BOOLEAN' then {{ value }} ->> 'boolValue'
            when regexp_full_match({{ value }} ->> 'intValue', '-?[0-9]+') then {{ value }} ->> 'intValue'
            when json_type({{ value }}, '$.intValue') is not null then to_json({{ value }} ->> 'intValue')::varchar
            when json_type({{ value }}, '$.doubleValue') in ('DOUBLE', 'BIGINT', 'UBIGINT') then {{ value }} ->> 'doubleValue'
            when json_type({{ value }}, '$.doubleValue') is not null then to_json({{ value }} ->> 'doubleValue')::varchar
            when json_type({{ value }}, '$.bytesValue') is not null then to_json({{ value }} ->> 'bytesValue')::varchar
            {%- if depth > 0 %}
            when json_type({{ value }}, '$.kvlistValue') is not null or json_type({{ value }}, '$.arrayValue') is not null then
                case when json_type({{ value }}, '$.kvlistValue') is not null then '{' else '[' end
                || array_to_string(
                    list_transform(
                        -- one list for both: a kvlist item is {key, value}, an array item the value
                        coalesce(
                            {{ otel_json_list(value ~ " -> '$.kvlistValue.values'") }},
                            {{ otel_json_list(value ~ " -> '$.arrayValue.values'") }},
                            []
                        ),
                        lambda {{ item }}:
                            case
                                when json_type({{ item }}, '$.key') is not null
                                    then to_json({{ item }} ->> 'key')::varchar || ':'
                                else ''
                            end
                            || {{ otel_any_value("coalesce(" ~ item ~ " -> '$.value', " ~ item ~ ")", depth - 1) }}
                    ),
                    ','
                )
                || case when json_type({{ value }}, '$.kvlistValue') is not null then '}' else ']' end
            {%- endif %}
        end,
        'null'
    )
{%- endmacro %}

{#- An OTLP `attributes` list ([{key, value: AnyValue}]) as one JSON object {key: plain value}. -#}
{% macro otel_attributes(attributes, depth=4) -%}
    json(
        '{' || array_to_string(
            list_transform(
                coalesce({{ otel_json_list(attributes) }}, []),
                lambda otel_attribute:
                    to_json(otel_attribute ->> 'key')::varchar || ':'
                    || {{ otel_any_value("otel_attribute -> 'value'", depth) }}
            ),
            ','
        ) || '}'
    )
{%- endmacro %}

{#- otel_line_spans(line): every span of an OTLP/JSON `TracesData` line in document order
    (resourceSpans[].scopeSpans[].spans[]) as one list of {resource, scope, span} JSON structs.
    The line is parsed once into that shape (json_transform) and the nesting flattened over typed
    lists, instead of parsing each level again with `->` and casts to json[]. -#}
{% macro otel_line_spans(line) -%}
    flatten(list_transform(
        coalesce(json_transform(
            {{ line }},
            '{"resourceSpans": [{"resource": "JSON", "scopeSpans": [{"scope": "JSON", "spans": ["JSON"]}]}]}'
        ).resourceSpans, []),
        lambda resource_span: flatten(list_transform(
            coalesce(resource_span.scopeSpans, []),
            lambda scope_span: list_transform(
                coalesce(scope_span.spans, []),
                lambda span: struct_pack(resource := resource_span.resource, scope := scope_span.scope, span := span)
            )
        ))
    ))
{%- endmacro %}

{#- One attribute of an attributes object (keys hold dots: quoted in the path). -#}
{% macro otel_attr(attributes, key) -%}
    json_extract({{ attributes }}, '$."{{ key }}"')
{%- endmacro %}

{% macro otel_attr_text(attributes, key) -%}
    nullif(json_extract_string({{ attributes }}, '$."{{ key }}"'), '')
{%- endmacro %}

{#- An attribute that may be structured or a JSON string (gen_ai.input.messages, ...):
    always JSON; null when absent or when a string that is not JSON. -#}
{% macro otel_attr_json(attributes, key) -%}
    case
        when json_type({{ attributes }}, '$."{{ key }}"') = 'VARCHAR'
            then case
                when json_valid(json_extract_string({{ attributes }}, '$."{{ key }}"'))
                    then json(json_extract_string({{ attributes }}, '$."{{ key }}"'))
            end
        when json_type({{ attributes }}, '$."{{ key }}"') != 'NULL'
            then {{ otel_attr(attributes, key) }}
    end
{%- endmacro %}

{#- True when the attribute is a string that is not JSON (quarantine invalid_json:<key>). -#}
{% macro otel_attr_is_invalid_json(attributes, key) -%}
    (
        json_type({{ attributes }}, '$."{{ key }}"') = 'VARCHAR'
        and not json_valid(json_extract_string({{ attributes }}, '$."{{ key }}"'))
    )
{%- endmacro %}

{#- A `*UnixNano` field (integer ns since the epoch, string or number) as a UTC timestamp
    (microseconds); null when not a positive integer. -#}
{% macro otel_unix_nano(text) -%}
    case
        when regexp_full_match({{ text }}, '[0-9]{1,19}') and try_cast({{ text }} as bigint) > 0
            then make_timestamp(try_cast({{ text }} as bigint) // 1000)
    end
{%- endmacro %}

{#- The rotation timestamp (UTC) of a Collector file, from its name
    `<name>-YYYY-MM-DDTHH-MM-SS.mmm.<json|jsonl>[.zst|.gz]` (chatbatch.accumulate.sources.otlp). -#}
{% macro otel_rotation_timestamp(file_path) -%}
    try_strptime(
        regexp_extract(
            {{ file_path }},
            '-([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}[.][0-9]{3})[.][a-z]+([.][a-z0-9]+)?$',
            1
        ),
        '%Y-%m-%dT%H-%M-%S.%g'
    )
{%- endmacro %}

{#- The text of a GenAI message given as `parts` (the `text` parts' `content`, joined with a
    newline); null when none. -#}
{% macro otel_parts_text(parts) -%}
    nullif(array_to_string(
        list_transform(
            list_filter(coalesce({{ otel_json_list(parts) }}, []), lambda otel_part: otel_part ->> 'type' = 'text'),
            lambda otel_part: otel_part ->> 'content'
        ),
        chr(10)
    ), '')
{%- endmacro %}

{#- The ids of the `tool_call` parts of a GenAI message's `parts`. -#}
{% macro otel_parts_tool_call_ids(parts) -%}
    list_transform(
        list_filter(coalesce({{ otel_json_list(parts) }}, []), lambda otel_part: otel_part ->> 'type' = 'tool_call'),
        lambda otel_part: coalesce(otel_part ->> 'id', '')
    )
{%- endmacro %}

{#- The text of a v1.36 event `content` (a string, or a list of parts with `text` / `content`). -#}
{% macro otel_content_text(content) -%}
    case
        when json_type({{ content }}) = 'VARCHAR' then nullif({{ content }} ->> '$', '')
        when json_type({{ content }}) = 'ARRAY' then nullif(array_to_string(
            list_transform(
                cast({{ content }} as json[]),
                lambda otel_part: coalesce(otel_part ->> 'text', otel_part ->> 'content')
            ),
            chr(10)
        ), '')
    end
{%- endmacro %}
