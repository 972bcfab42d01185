"""The one file hash: landing files (ingest, purge) and export files alike."""

from __future__ import annotations

import hashlib
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_with_sha256(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target`` and return the sha256 of ``source``, both at once.

    The copy is the kernel's (``shutil.copyfile``: ``sendfile`` on Linux, no bytes through
    Python) while a second thread hashes the source (hashlib releases the GIL): a 3.5 GB
    warehouse took 2.7 s, against 5.0-6.5 s when Python read each block, wrote it and
    hashed it. The caller guarantees the source does not change meanwhile (the warehouse
    is closed, under the batch lock; a snapshot is never written), so the hash is the
    copy's; what the copy's reader checks later (``sha256_of``) is that it still is."""
    with ThreadPoolExecutor(1) as hasher:
        hashing = hasher.submit(sha256_of, source)
        shutil.copyfile(source, target)
        return hashing.result()
