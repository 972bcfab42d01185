"""The nightly batch killed anywhere, then run again: the result equals a clean night.

Each test starts from the home of the session's reference history before its last night
(tests/python/nightly_reference.py, built by test_nightly's first test), so this module can
run on the other xdist worker than test_nightly."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.python.marts import fingerprint
from tests.python.nightly_reference import LAST, Reference, history_lines, restore_before_last, run_cli


@pytest.fixture(scope="module")
def kill_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one path this module's tests restore the home before the last night to."""
    return tmp_path_factory.mktemp("kill") / "home"


def _kill_then_rerun(reference: Reference, kill_home: Path, kill_at: str) -> None:
    home = restore_before_last(reference, kill_home)
    night = LAST.isoformat()
    killed = run_cli(home, "nightly", "--date", night, env={"CHATBATCH_KILL_AT": kill_at})
    assert killed.returncode == -9, f"{kill_at} was never reached: {killed.stdout[-2000:]}"
    rerun = run_cli(home, "nightly", "--date", night)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert fingerprint(home / "analytics.duckdb") == reference.nightly
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        files_on_disk = sum(
            1
            for p in (home / "landing").rglob("*.jsonl*")
            if p.parent.name.removeprefix("export_date=") <= night
        )
        assert con.execute("select count(*) from chatbatch.landing_files").fetchone() == (files_on_disk,)
    finally:
        con.close()
    statuses = [json.loads(line)["status"] for line in history_lines(home)]
    assert statuses[-1] == "ok"


# Two classes: xdist's loadscope hands each to a worker of its own (each restores to its own
# kill_home), so the six kills do not add up on one worker.
class TestKilledBeforePublish:
    @pytest.mark.parametrize(
        "kill_at",
        [
            "ingest:file:3",  # during accumulation
            "gate",  # inside the gate's transaction
            "dbt:stg_chatbot__messages",  # mid dbt build, after the gate
        ],
    )
    def test_kill_anywhere_then_rerun_equals_clean(
        self, nightly_reference: Reference, kill_home: Path, kill_at: str
    ) -> None:
        _kill_then_rerun(nightly_reference, kill_home, kill_at)


class TestKilledFromPublishOn:
    @pytest.mark.parametrize(
        "kill_at",
        [
            "publish:before_rename",  # during publish
            "publish:after_rename",  # published, not yet recorded
            "record:torn",  # while writing the run record
        ],
    )
    def test_kill_anywhere_then_rerun_equals_clean(
        self, nightly_reference: Reference, kill_home: Path, kill_at: str
    ) -> None:
        _kill_then_rerun(nightly_reference, kill_home, kill_at)
