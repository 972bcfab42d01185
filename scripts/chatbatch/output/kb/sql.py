"""Every DuckDB statement of the KB index, in one place (``FLOAT[n]`` arrays,
``array_cosine_similarity``, ``unnest``). A port to another engine replaces this file."""

from __future__ import annotations

SCHEMA = "kb"

SETTINGS_DDL = """
create schema if not exists kb;
create table if not exists kb.index_settings (
    embedder varchar not null, chunker varchar not null, dim integer not null
);
"""


def tables_ddl(dim: int) -> str:
    return f"""
    create table if not exists kb.chunks (
        chunk_id varchar not null,
        document_id varchar not null,
        document_version integer not null,
        chunk_index integer not null,
        heading varchar,
        chunk_text varchar not null,
        token_count integer not null,
        embedding float[{int(dim)}] not null,
        indexed_in_batch integer not null
    );
    create table if not exists kb.chunk_terms (
        chunk_id varchar not null, term varchar not null, term_frequency integer not null
    );
    create table if not exists kb.term_stats (term varchar not null, document_frequency integer not null);
    create table if not exists kb.corpus_stats (
        chunk_count bigint not null, token_count bigint not null, avg_chunk_tokens double
    );
    """


DROP_INDEX = """
drop table if exists kb.chunks;
drop table if exists kb.chunk_terms;
drop table if exists kb.term_stats;
drop table if exists kb.corpus_stats;
delete from kb.index_settings;
"""

CURRENT_DOCUMENTS = """
select document_id, document_version, document_title, document_body
from marts.dim_kb_documents
where not is_deleted and document_body is not null
order by document_id
"""

INDEXED_VERSIONS = "select distinct document_id, document_version from kb.chunks order by 1"

# BM25 statistics, maintained incrementally: remove the stale documents' terms ...
# (statements run one by one; the first takes the document ids)
REMOVE_DOCUMENTS = [
    """
create or replace temporary table stale_chunks as
    select chunk_id from kb.chunks where document_id in (select unnest(?::varchar[]))
""",
    """
update kb.term_stats
set document_frequency = kb.term_stats.document_frequency - removed.chunks
from (
    select term, count(*) as chunks
    from kb.chunk_terms
    where chunk_id in (select chunk_id from stale_chunks)
    group by term
) as removed
where kb.term_stats.term = removed.term
""",
    "delete from kb.chunk_terms where chunk_id in (select chunk_id from stale_chunks)",
    "delete from kb.chunks where chunk_id in (select chunk_id from stale_chunks)",
    "delete from kb.term_stats where document_frequency <= 0",
]

# ... and add the new chunks' (``new_chunks`` is a registered Arrow table; the first
# statement takes the batch id).
ADD_CHUNKS = [
    """
insert into kb.chunks
select chunk_id, document_id, document_version, chunk_index, heading, chunk_text, token_count,
    embedding::float[{dim}], ?
from new_chunks
""",
    """
create or replace temporary table new_terms as
    select chunk_id, term, cast(count(*) as integer) as term_frequency
    from (select chunk_id, unnest(tokens) as term from new_chunks)
    group by chunk_id, term
""",
    "insert into kb.chunk_terms select chunk_id, term, term_frequency from new_terms",
    """
insert into kb.term_stats
select term, 0 from (select distinct term from new_terms)
where term not in (select term from kb.term_stats)
""",
    """
update kb.term_stats
set document_frequency = kb.term_stats.document_frequency + added.chunks
from (select term, cast(count(*) as integer) as chunks from new_terms group by term) as added
where kb.term_stats.term = added.term
""",
]

CORPUS_STATS = """
delete from kb.corpus_stats;
insert into kb.corpus_stats
select count(*), coalesce(sum(token_count), 0), avg(token_count) from kb.chunks;
"""

EXPORT_CHUNKS = """
select chunk_id, document_id, document_version as version, chunk_index, heading,
    chunk_text as text, token_count, embedding
from kb.chunks order by chunk_id
"""
EXPORT_CHUNK_TERMS = "select chunk_id, term, term_frequency from kb.chunk_terms order by chunk_id, term"
EXPORT_TERM_STATS = "select term, document_frequency from kb.term_stats order by term"
CORPUS = "select chunk_count, token_count, avg_chunk_tokens from kb.corpus_stats"

# Query time (read-only, on the published analytics.duckdb).
IDF = """
select term, ln(1 + (corpus.chunk_count - term_stats.document_frequency + 0.5)
    / (term_stats.document_frequency + 0.5))
from kb.term_stats as term_stats cross join kb.corpus_stats as corpus
where term in (select unnest(?::varchar[]))
"""


def search(dim: int) -> str:
    """Parameters: query terms, query vector, bm25 weight (twice), k. Okapi BM25 (k1 1.2, b 0.75),
    normalised by the best BM25 score among the chunks, blended with the cosine."""
    return f"""
    with query_terms as (
        select distinct unnest(?::varchar[]) as term
    ),
    bm25 as (
        select
            terms.chunk_id,
            sum(
                ln(1 + (corpus.chunk_count - stats.document_frequency + 0.5)
                    / (stats.document_frequency + 0.5))
                * terms.term_frequency * 2.2
                / (terms.term_frequency
                    + 1.2 * (0.25 + 0.75 * chunks.token_count / corpus.avg_chunk_tokens))
            ) as bm25_score
        from query_terms
        inner join kb.chunk_terms as terms on query_terms.term = terms.term
        inner join kb.term_stats as stats on terms.term = stats.term
        inner join kb.chunks as chunks on terms.chunk_id = chunks.chunk_id
        cross join kb.corpus_stats as corpus
        group by terms.chunk_id
    ),
    scored as (
        select
            chunks.chunk_id, chunks.document_id, chunks.document_version, chunks.heading,
            chunks.chunk_text,
            array_cosine_similarity(chunks.embedding, ?::float[{int(dim)}]) as dense_score,
            coalesce(bm25.bm25_score, 0) as bm25_score
        from kb.chunks as chunks
        left join bm25 on chunks.chunk_id = bm25.chunk_id
    ),
    blended as (
        select
            *,
            (1 - ?) * dense_score
            + ? * coalesce(bm25_score / nullif(max(bm25_score) over (), 0), 0) as score
        from scored
    )
    select chunk_id, document_id, document_version, heading, chunk_text, score, dense_score, bm25_score
    from blended
    order by score desc, chunk_id
    limit ?
    """
