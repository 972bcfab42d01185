"""Expected failures, told to the operator in one or two lines.

An :class:`OperatorError` names what is wrong (the file, the setting, the holder) and
what to do about it, and carries the exit code it ends the command with. ``cli.main``
prints it as::

    chatbatch: <what>
      → <hint>

and never shows a traceback for it. Anything else is a bug or an unforeseen fault: its
traceback goes to the log file (``core/log.py``).

Defined where they are raised: ``LockHeld`` (``core/lock.py``, exit 3) and
``ContentChangedError`` (``accumulate/ingest.py``, a known landing file changed).
"""

from __future__ import annotations

from chatbatch.core.exit_codes import ExitCode


class OperatorError(Exception):
    """A failure an operator can act on: ``what`` is wrong, ``hint`` says what to do."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, what: str, hint: str, exit_code: ExitCode | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def lines(self) -> list[str]:
        """What the operator reads on stderr."""
        return [f"chatbatch: {self.what}", f"  → {self.hint}"] if self.hint else [f"chatbatch: {self.what}"]


class ConfigError(OperatorError):
    """A setting (environment variable, option) has a value the runner cannot use.

    Exit 2 like a bad command line: rerunning cannot help, a person must change it."""

    exit_code = ExitCode.USAGE


class UsageError(OperatorError):
    """The command line contradicts itself in a way argparse cannot see."""

    exit_code = ExitCode.USAGE


class LandingLayoutError(OperatorError):
    """The landing tree itself is unusable (not one stray file: those are recorded)."""


class QualityGateFailed(OperatorError):
    """The batch's quarantined share is above the allowed maximum."""

    exit_code = ExitCode.QUALITY
