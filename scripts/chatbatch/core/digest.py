"""The one file hash: landing files (ingest, purge) and export files alike."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

COPY_BLOCK = 8 << 20  # bytes per read while copying


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_with_sha256(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target`` and return the sha256 of the bytes copied, in one pass.

    Each block is hashed in a second thread while the next is read and written (hashlib
    releases the GIL), so the copy costs about as much as the hash alone: a 3.4 GB warehouse
    took 3.9 s against 5.6-6.7 s for ``shutil.copyfile`` and then ``sha256_of`` of the copy.
    The bytes hashed are the bytes written; what the copy's reader checks later
    (``sha256_of``) is that the file still holds them."""
    digest = hashlib.sha256()
    with source.open("rb") as reader, target.open("wb") as writer, ThreadPoolExecutor(1) as hasher:
        hashing = None
        for block in iter(lambda: reader.read(COPY_BLOCK), b""):
            if hashing is not None:
                hashing.result()
            hashing = hasher.submit(digest.update, block)
            writer.write(block)
        if hashing is not None:
            hashing.result()
    return digest.hexdigest()
