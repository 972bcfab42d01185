"""The nightly ``kb_index`` workload: keep the KB index in step with the documents.

Runs before publishing, on the working warehouse:

1. The current versions (``marts.dim_kb_documents``, not deleted) are compared with
   the versions in ``kb.chunks``. Only new or changed versions are chunked and
   embedded; documents deleted or replaced leave the index.
2. In one transaction: the stale chunks and their terms are removed, the new ones
   added, and the BM25 statistics (``kb.term_stats`` document frequencies,
   ``kb.corpus_stats``) adjusted by the difference, in SQL. A run killed before the
   commit left the index as it was; the next run redoes the difference.
3. The index is exported to ``Paths.kb_export`` (``exports/kb/``: chunks with embeddings,
   chunk terms, term statistics, as Parquet) with ``manifest.json``; files whose bytes
   did not change are not rewritten.

The ``kb`` schema is then published with the marts, so ``chatbatch kb-search`` reads
the published index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from chatbatch.core import duck
from chatbatch.output import files
from chatbatch.output.kb import sql
from chatbatch.output.kb.chunking import Chunk, ChunkerConfig, chunk_document
from chatbatch.output.kb.embedding import Embedder, from_env
from chatbatch.output.kb.text import tokenize
from chatbatch.output.workload import Phase, WorkloadContext


@dataclass
class IndexChange:
    added_versions: list[tuple[str, int]] = field(default_factory=list)
    removed_documents: list[str] = field(default_factory=list)
    chunks_added: int = 0
    rebuilt: bool = False


def _settings_match(con: duckdb.DuckDBPyConnection, embedder: Embedder, chunker: ChunkerConfig) -> bool:
    row = con.execute("select embedder, chunker, dim from kb.index_settings").fetchone()
    return row is not None and tuple(row) == (embedder.name, chunker.name, embedder.dim)


def _new_chunks_table(chunks: list[Chunk], embedder: Embedder) -> pa.Table:
    texts = [chunk.embedding_text for chunk in chunks]
    vectors = embedder.embed(texts) if texts else None
    token_lists = [tokenize(text) for text in texts]
    embedding_type = pa.list_(pa.float32(), embedder.dim)
    return pa.table(
        {
            "chunk_id": pa.array([c.chunk_id for c in chunks], pa.string()),
            "document_id": pa.array([c.document_id for c in chunks], pa.string()),
            "document_version": pa.array([c.document_version for c in chunks], pa.int32()),
            "chunk_index": pa.array([c.chunk_index for c in chunks], pa.int32()),
            "heading": pa.array([c.heading for c in chunks], pa.string()),
            "chunk_text": pa.array([c.text for c in chunks], pa.string()),
            "token_count": pa.array([len(t) for t in token_lists], pa.int32()),
            "tokens": pa.array(token_lists, pa.list_(pa.string())),
            "embedding": pa.FixedSizeListArray.from_arrays(
                pa.array(vectors.ravel() if vectors is not None else [], pa.float32()), type=embedding_type
            ),
        }
    )


def _run(con: duckdb.DuckDBPyConnection, statements: list[str], first_params: list[Any]) -> None:
    """Statements in order; only the first takes parameters."""
    for i, statement in enumerate(statements):
        con.execute(statement, first_params if i == 0 else [])


def update_index(
    con: duckdb.DuckDBPyConnection,
    batch_id: int,
    embedder: Embedder,
    chunker: ChunkerConfig | None = None,
) -> IndexChange:
    """Bring ``kb.*`` in step with ``marts.dim_kb_documents``; return what changed."""
    chunker = chunker or ChunkerConfig()
    change = IndexChange()
    con.execute(sql.SETTINGS_DDL)
    if not _settings_match(con, embedder, chunker):
        # a new embedder or chunker: every vector and chunk is rebuilt
        con.execute(sql.DROP_INDEX)
        con.execute(
            "insert into kb.index_settings values (?, ?, ?)", [embedder.name, chunker.name, embedder.dim]
        )
        change.rebuilt = True
    con.execute(sql.tables_ddl(embedder.dim))
    current = {
        doc_id: (int(version), title or "", body)
        for doc_id, version, title, body in con.execute(sql.CURRENT_DOCUMENTS).fetchall()
    }
    indexed: dict[str, set[int]] = {}
    for doc_id, version in con.execute(sql.INDEXED_VERSIONS).fetchall():
        indexed.setdefault(doc_id, set()).add(int(version))
    change.removed_documents = sorted(
        doc_id
        for doc_id, versions in indexed.items()
        if doc_id not in current or versions != {current[doc_id][0]}
    )
    change.added_versions = sorted(
        (doc_id, version)
        for doc_id, (version, _, _) in current.items()
        if doc_id not in indexed or doc_id in change.removed_documents
    )
    chunks = [
        chunk
        for doc_id, version in change.added_versions
        for chunk in chunk_document(doc_id, version, current[doc_id][2], chunker)
    ]
    change.chunks_added = len(chunks)
    new_chunks = _new_chunks_table(chunks, embedder)
    with duck.transaction(con):
        if change.removed_documents:
            _run(con, sql.REMOVE_DOCUMENTS, [change.removed_documents])
        if chunks:
            con.register("new_chunks", new_chunks)
            _run(con, [s.format(dim=int(embedder.dim)) for s in sql.ADD_CHUNKS], [batch_id])
            con.unregister("new_chunks")
        con.execute(sql.CORPUS_STATS)
    return change


def export_index(con: duckdb.DuckDBPyConnection, folder: Path, batch_id: int) -> tuple[dict[str, Any], bool]:
    """Parquet files and manifest of the (committed) index in the warehouse, rewritten on change."""
    exported = {
        "chunks": files.write_parquet(con, sql.EXPORT_CHUNKS, folder / "chunks.parquet"),
        "chunk_terms": files.write_parquet(con, sql.EXPORT_CHUNK_TERMS, folder / "chunk_terms.parquet"),
        "term_stats": files.write_parquet(con, sql.EXPORT_TERM_STATS, folder / "term_stats.parquet"),
    }
    embedder, chunker, dim = con.execute(
        "select embedder, chunker, dim from kb.index_settings"
    ).fetchone() or (
        None,
        None,
        None,
    )
    chunk_count, token_count, avg_tokens = con.execute(sql.CORPUS).fetchone() or (0, 0, None)
    documents = con.execute("select count(distinct document_id) from kb.chunks").fetchone()
    content = {
        "artefact": "kb_index",
        "embedder": embedder,
        "embedding_dim": dim,
        "chunker": chunker,
        "documents": int(documents[0]) if documents else 0,
        "chunks": int(chunk_count),
        "tokens": int(token_count),
        "avg_chunk_tokens": round(float(avg_tokens), 6) if avg_tokens is not None else None,
        "bm25": {"k1": 1.2, "b": 0.75},
        "files": {name: parquet.entry() for name, parquet in exported.items()},
    }
    return files.write_manifest(folder / files.MANIFEST, content, batch_id)


class KbIndexWorkload:
    name = "kb_index"
    phase: Phase = "before_publish"

    def run(self, ctx: WorkloadContext) -> dict[str, Any]:
        embedder = from_env()
        con = files.connect(ctx.paths.warehouse, read_only=False)
        try:
            change = update_index(con, ctx.batch_id, embedder)
            manifest, written = export_index(con, ctx.paths.kb_export, ctx.batch_id)
        finally:
            con.close()
        ctx.say(
            f"  kb index: +{len(change.added_versions)} versions ({change.chunks_added} chunks), "
            f"-{len(change.removed_documents)} documents; {manifest['chunks']} chunks of "
            f"{manifest['documents']} documents; manifest {'written' if written else 'unchanged'}"
        )
        return {
            "versions_indexed": len(change.added_versions),
            "documents_removed": len(change.removed_documents),
            "chunks_added": change.chunks_added,
            "rebuilt": change.rebuilt,
            "chunks": manifest["chunks"],
            "documents": manifest["documents"],
            "manifest_written": written,
        }
