"""Named fault points, for the tests that kill the runner at a chosen moment.

Inert unless ``CHATBATCH_KILL_AT`` names the point: then the process SIGKILLs itself
there, exactly as an OOM killer or a power cut would, with no chance to clean up.
Points: ``ingest:file:<n>`` (after the n-th file of a run is committed),
``dbt:<model>`` (as soon as dbt has finished building that model), ``gate``,
``publish:before_rename``, ``publish:after_rename``, ``record:torn``.
"""

from __future__ import annotations

import os
import signal

ENV = "CHATBATCH_KILL_AT"


def armed(point: str) -> bool:
    return os.environ.get(ENV) == point


def checkpoint(point: str) -> None:
    if armed(point):
        os.kill(os.getpid(), signal.SIGKILL)
