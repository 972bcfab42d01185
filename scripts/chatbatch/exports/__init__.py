"""Nightly exports of the working warehouse to Parquet (ML datasets, the archive)."""
