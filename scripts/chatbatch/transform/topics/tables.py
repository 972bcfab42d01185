"""The warehouse tables of the topics step (schema ``topics``), the one definition.

Created by the nightly's topics step before it writes, and by ``chatbatch ingest``, so
dbt's source ``topics`` exists for a plain ``chatbatch ingest && dbt build`` too, before
any topic model was fitted; what each table holds: ``store.py``.
"""

DDL = """
create schema if not exists topics;
create table if not exists topics.topic_models (
    model_version integer not null, fitted_batch_id integer not null, fitted_run_date date not null,
    reason varchar not null, fit_texts integer not null, fit_messages integer not null,
    topics integer not null, params json not null
);
create table if not exists topics.topics (
    model_version integer not null, topic_id integer not null, label varchar not null,
    top_terms varchar[] not null, representative_utterance varchar not null,
    example_utterances varchar[] not null, fit_messages integer not null, centroid double[] not null
);
create table if not exists topics.topic_id_map (
    model_version integer not null, previous_model_version integer, previous_topic_id integer,
    topic_id integer, similarity double
);
create table if not exists topics.message_topics (
    message_id varchar not null, conversation_id varchar not null, model_version integer not null,
    topic_id integer, similarity double not null, assigned_batch_id integer not null
);
create table if not exists topics.state (assigned_through_batch integer not null);
"""
