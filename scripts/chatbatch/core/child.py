"""Run a piece of work in a forked child process and return its exit code.

A long catch-up runs each of its batches this way (nightly.py): memory a batch's
libraries keep after it (dbt's manifests and caches, Arrow and allocator pools) is
returned when its process ends, so the run's peak is one batch's, not one that grows
batch by batch. The child inherits everything the parent holds, the batch lock too
(an ``flock`` belongs to the open file, which both share), so no other run can start
while a child still works, even if the parent died.

A fork copies only the forking thread. Thread pools a library started in the parent are
gone in the child while their bookkeeping says they exist: dbt's static parser (Rust,
rayon) then waits forever for workers that are not there, whenever the parent has parsed a
project before (a test process, a bench) and the child parses again. The child therefore
parses without it (``DBT_STATIC_PARSER=false``: dbt renders each model's Jinja instead,
the same result, a little slower, and only for files that changed).
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable

from chatbatch.core.exit_codes import ExitCode


def run_in_child(work: Callable[[], int], say: Callable[[str], None] = print) -> int:
    """``work()`` in a forked child; its exit code, or FAILED (said) if a signal ended it."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the parent's code
        os.environ["DBT_STATIC_PARSER"] = "false"
        code = int(ExitCode.FAILED)
        try:
            code = int(work())
        except BaseException:  # the child must reach os._exit whatever happens
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        name = signal.Signals(-code).name
        say(f"the batch's process {pid} was ended by {name}; the next run repairs what it left")
        return int(ExitCode.FAILED)
    return code
