{#
    Raw export contract v1, as the staging layer enforces it (docs/export-contract.md
    is the prose, scripts/chatbatch/contract/v1/*.schema.json the JSON Schemas; a
    pytest keeps the three in step).

    Each field: name (dotted for nested objects), type (text | integer | number |
    boolean | timestamp | json | text_array), required, and for enums the accepted
    values (compared after lower() and trim()). `checks` are extra rules on the typed
    columns, each with the reason a failing record is quarantined under.
#}
{% macro export_contract(entity) %}
    {% set contracts = {
        'conversations': {
            'fields': [
                {'name': 'conversation_id', 'type': 'text', 'required': true},
                {'name': 'user_id', 'type': 'text'},
                {'name': 'channel', 'type': 'text', 'required': true,
                 'enum': ['web', 'ios', 'android', 'whatsapp', 'slack', 'voice', 'email']},
                {'name': 'locale', 'type': 'text'},
                {'name': 'bot_id', 'type': 'text', 'required': true},
                {'name': 'bot_version', 'type': 'text'},
                {'name': 'started_at', 'type': 'timestamp', 'required': true},
                {'name': 'ended_at', 'type': 'timestamp'},
                {'name': 'end_reason', 'type': 'text',
                 'enum': ['user_closed', 'timeout', 'agent_closed']},
                {'name': 'attributes', 'type': 'json'},
                {'name': 'exported_at', 'type': 'timestamp', 'required': true},
            ],
            'checks': [],
        },
        'messages': {
            'fields': [
                {'name': 'message_id', 'type': 'text', 'required': true},
                {'name': 'conversation_id', 'type': 'text', 'required': true},
                {'name': 'role', 'type': 'text', 'required': true,
                 'enum': ['user', 'assistant', 'human_agent', 'system']},
                {'name': 'sent_at', 'type': 'timestamp', 'required': true},
                {'name': 'text', 'type': 'text'},
                {'name': 'intent.name', 'type': 'text'},
                {'name': 'intent.confidence', 'type': 'number'},
                {'name': 'model', 'type': 'text'},
                {'name': 'usage.input_tokens', 'type': 'integer'},
                {'name': 'usage.output_tokens', 'type': 'integer'},
                {'name': 'latency_ms', 'type': 'integer'},
                {'name': 'retrieved_document_ids', 'type': 'text_array'},
                {'name': 'exported_at', 'type': 'timestamp', 'required': true},
            ],
            'checks': [
                {'reason': 'out_of_range:intent.confidence',
                 'fails_when': 'intent_confidence < 0 or intent_confidence > 1'},
                {'reason': 'out_of_range:latency_ms', 'fails_when': 'latency_ms < 0'},
            ],
        },
        'events': {
            'fields': [
                {'name': 'event_id', 'type': 'text', 'required': true},
                {'name': 'conversation_id', 'type': 'text', 'required': true},
                {'name': 'message_id', 'type': 'text'},
                {'name': 'event_type', 'type': 'text', 'required': true,
                 'enum': ['fallback', 'handoff_requested', 'handoff_completed', 'tool_call',
                          'retrieval', 'resolution_confirmed', 'resolution_denied', 'error',
                          'conversation_closed']},
                {'name': 'occurred_at', 'type': 'timestamp', 'required': true},
                {'name': 'payload', 'type': 'json'},
                {'name': 'exported_at', 'type': 'timestamp', 'required': true},
            ],
            'checks': [],
        },
        'feedback': {
            'fields': [
                {'name': 'feedback_id', 'type': 'text', 'required': true},
                {'name': 'conversation_id', 'type': 'text', 'required': true},
                {'name': 'message_id', 'type': 'text'},
                {'name': 'kind', 'type': 'text', 'required': true,
                 'enum': ['thumbs', 'csat', 'comment']},
                {'name': 'value', 'type': 'integer'},
                {'name': 'comment', 'type': 'text'},
                {'name': 'submitted_at', 'type': 'timestamp', 'required': true},
                {'name': 'exported_at', 'type': 'timestamp', 'required': true},
            ],
            'checks': [
                {'reason': 'out_of_range:value',
                 'fails_when': "(kind = 'thumbs' and value not in (1, -1))"
                    ~ " or (kind = 'csat' and (value < 1 or value > 5))"},
            ],
        },
        'kb_documents': {
            'fields': [
                {'name': 'document_id', 'type': 'text', 'required': true},
                {'name': 'version', 'type': 'integer', 'required': true},
                {'name': 'title', 'type': 'text'},
                {'name': 'url', 'type': 'text'},
                {'name': 'body', 'type': 'text'},
                {'name': 'language', 'type': 'text'},
                {'name': 'is_deleted', 'type': 'boolean'},
                {'name': 'updated_at', 'type': 'timestamp', 'required': true},
                {'name': 'exported_at', 'type': 'timestamp', 'required': true},
            ],
            'checks': [],
        },
        'users': {
            'fields': [
                {'name': 'user_id', 'type': 'text', 'required': true},
                {'name': 'created_at', 'type': 'timestamp'},
                {'name': 'segment', 'type': 'text', 'enum': ['free', 'pro', 'enterprise']},
                {'name': 'country', 'type': 'text'},
                {'name': 'exported_at', 'type': 'timestamp', 'required': true},
            ],
            'checks': [],
        },
    } %}
    {% if entity not in contracts %}
        {{ exceptions.raise_compiler_error("export_contract: unknown entity '" ~ entity ~ "'") }}
    {% endif %}
    {{ return(contracts[entity]) }}
{% endmacro %}
