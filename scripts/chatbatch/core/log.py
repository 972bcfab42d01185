"""Where an unexpected exception's traceback goes: the log file, not the operator's screen.

``$CHATBATCH_HOME/state/logs/chatbatch.log`` gets every unexpected traceback, appended
under a header line (time, pid, command line); past 5 MB it is renamed to
``chatbatch.log.1`` (one generation kept). stderr gets one line naming the file, and the
traceback too in debug mode (``chatbatch --debug …`` or ``CHATBATCH_DEBUG=1``).
"""

from __future__ import annotations

import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

DEBUG_ENV = "CHATBATCH_DEBUG"
ROTATE_BYTES = 5 * 1024 * 1024


def log_file(home: Path) -> Path:
    return home / "state" / "logs" / "chatbatch.log"


ERRORS_HELP = (  # for --help
    "Expected failures print one or two lines: what is wrong and what to do. Any other error "
    f"prints one line and writes its traceback to {log_file(Path('$CHATBATCH_HOME'))} "
    f"(also to stderr with --debug or {DEBUG_ENV}=1)."
)


def debug_enabled() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def log_exception(exc: BaseException, home: Path) -> Path:
    """Append ``exc``'s traceback to the log file; on stderr only in debug mode.

    Returns the log file's path. When the file cannot be written (a full disk, a
    read-only home) the traceback goes to stderr instead, so it is never lost.
    """
    text = "".join(traceback.format_exception(exc))
    path = log_file(home)
    header = (
        f"=== {datetime.now(UTC).isoformat(timespec='seconds')} pid {os.getpid()} "
        f"{' '.join(sys.argv) or 'chatbatch'}\n"
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > ROTATE_BYTES:
            path.replace(path.with_name(path.name + ".1"))
        with path.open("a", encoding="utf-8") as handle:
            handle.write(header + text)
    except OSError as error:
        print(f"chatbatch: cannot write {path} ({error}); the traceback follows", file=sys.stderr)
        print(text, file=sys.stderr, end="")
        return path
    if debug_enabled():
        print(text, file=sys.stderr, end="")
    return path


def unexpected_line(exc: BaseException, log: Path) -> str:
    """The one line an unexpected exception shows the operator."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    detail = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    more = "" if debug_enabled() else "; rerun with --debug to see it here"
    return f"chatbatch: unexpected error ({detail[:300]}); traceback in {log}{more}"
