"""The register of erased subjects and the erasure log: no personal data in either.

``Paths.privacy`` (``state/privacy/``) holds:

* ``salt``: a per-home secret (32 random bytes, hex), created once, mode 0600. Without it a
  hash in the register cannot be tested against a guessed id.
* ``subjects.txt``: one salted hash per line, ``sha256(salt || id)`` hex, of every erased
  user id and of every conversation, session and trace id that was theirs. Append-only.
  The ingest step drops any record one of whose key fields hashes into it.
* ``erasures.jsonl``: one JSON object per ``chatbatch forget`` request: erasure id, the
  salted hash of the user id, when, the reason (redacted; it must not hold personal data)
  and counts per place. Append-only.

Which fields of a record identify its person (``RECORD_KEYS``) is defined here, once: the
ingest filter, ``chatbatch forget`` and the landing rewriter all read it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SALT_FILE = "salt"
REGISTER_FILE = "subjects.txt"
LOG_FILE = "erasures.jsonl"


@dataclass(frozen=True)
class RecordKeys:
    """The JSON fields of a record that say whose it is.

    ``owner``: fields holding a user id. ``links``: conversation / session / trace ids;
    a record whose owner field is an erased user makes its link ids erased too.
    """

    owner: tuple[str, ...] = ()
    links: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return self.owner + self.links


# Per raw table (contract v1 entities and the other sources' raw tables). Tables absent
# here hold no personal data (kb_documents, langfuse_manifests); otel_traces is filtered
# span by span (OTEL_*), one TracesData line holding spans of many conversations.
RECORD_KEYS: dict[str, RecordKeys] = {
    "conversations": RecordKeys(("user_id",), ("conversation_id",)),
    "messages": RecordKeys((), ("conversation_id",)),
    "events": RecordKeys((), ("conversation_id",)),
    "feedback": RecordKeys((), ("conversation_id",)),
    "users": RecordKeys(("user_id",), ()),
    "langfuse_observations": RecordKeys(("user_id",), ("trace_id", "session_id")),
    "langfuse_scores": RecordKeys((), ("trace_id", "session_id")),
    "langfuse_traces": RecordKeys(("user_id",), ("id", "session_id")),
}
OTEL_TABLE = "otel_traces"
OTEL_USER_ATTRIBUTE = "user.id"  # span or resource attribute (docs/sources/otel-genai.md)
OTEL_CONVERSATION_ATTRIBUTE = "gen_ai.conversation.id"


def salted_hash(salt: str, value: str) -> str:
    """``sha256(salt || value)`` as hex: DuckDB's ``sha256(salt || value)`` gives the same."""
    return hashlib.sha256((salt + value).encode("utf-8")).hexdigest()


@dataclass
class Register:
    """The salt and the erased hashes of one home."""

    folder: Path
    salt: str
    hashes: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, folder: Path, create: bool = False) -> Register | None:
        """The home's register; None when nothing was ever erased (and ``create`` is off)."""
        salt_path = folder / SALT_FILE
        if not salt_path.exists():
            if not create:
                return None
            folder.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(salt_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
        register = cls(folder, salt_path.read_text().strip())
        path = folder / REGISTER_FILE
        if path.exists():
            register.hashes = {line.strip() for line in path.read_text().splitlines() if line.strip()}
        return register

    def hash(self, value: str) -> str:
        return salted_hash(self.salt, value)

    def holds(self, value: Any) -> bool:
        return isinstance(value, str) and value != "" and self.hash(value) in self.hashes

    def add(self, values: Iterable[str]) -> int:
        """Register ids (hashed; the ids themselves are never written). Returns how many were new."""
        new = sorted({self.hash(v) for v in values if v} - self.hashes)
        if new:
            with (self.folder / REGISTER_FILE).open("a", encoding="utf-8") as handle:
                handle.write("".join(f"{h}\n" for h in new))
                handle.flush()
                os.fsync(handle.fileno())
            self.hashes.update(new)
        return len(new)


@dataclass
class ErasureRecord:
    """One line of the erasure log: hashes and counts, never an id or a text."""

    erasure_id: str
    user_hashes: list[str]  # salted hashes of the erased user ids
    requested_at: str
    finished_at: str | None
    reason: str | None
    dry_run: bool
    subject_hashes: int = 0  # user + conversation / session / trace ids registered
    counts: dict[str, Any] = field(default_factory=dict)  # place -> count (or {item: count})

    def append_to(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / LOG_FILE).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(self), sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def read_log(folder: Path) -> list[dict[str, Any]]:
    path = folder / LOG_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
