"""The knowledge-base index: chunking, embeddings, BM25 statistics and search.

* ``text``: the one tokeniser, used at index and at query time.
* ``chunking``: markdown documents into overlapping chunks with stable ids.
* ``embedding``: pluggable embedders (default: a deterministic hashing-trick vector).
* ``sql``: every DuckDB statement of the index (the only engine-specific code here).
* ``index``: the nightly ``kb_index`` workload (incremental: only new or changed
  document versions are chunked and embedded; deleted documents leave the index).
* ``search``: ``chatbatch kb-search`` over the published index.
"""
