"""Readers for source systems other than export contract v1 (issue 14).

Each reader turns one landed file into text lines, one per record, without judging the
records: parsing and quarantine stay dbt's job, as for contract v1. They split bytes into
lines with ``chatbatch.accumulate.lines`` (the one line reader) and import
neither DuckDB nor dbt, so ingest can call them per file.

* ``langfuse``: Langfuse blob-storage exports (Parquet, JSONL, JSON, CSV, optionally
  gzipped) and their run manifests.
* ``otlp``: OpenTelemetry Collector file-exporter output (OTLP/JSON lines, optionally
  zstd-compressed).

The mapping to the contract v1 entities is in ``docs/sources/``.
"""
