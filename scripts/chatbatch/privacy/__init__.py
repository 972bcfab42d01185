"""Privacy: erasure on request (``chatbatch forget``), retention of every kind of data,
and warehouse snapshots that recovery and retention rely on (docs/privacy.md)."""
