"""One dbt parse per process and parse inputs (process/manifests.py), with real dbt runs."""

from __future__ import annotations

import gc
import re
import threading
from pathlib import Path

import pytest

from chatbatch.core.paths import Paths
from chatbatch.process import manifests
from chatbatch.process.dbt import dbt_args, parse_ahead, run_dbt

SEED = "model_prices"


# What dbt logs (debug level) whenever it builds a manifest from files: partial or full
PARSED = re.compile(r"Partial parsing enabled|Unable to do partial parsing|Partial parsing not enabled")
COMMAND = re.compile(r"Command `\w+ (\w+)` (?:succeeded|failed)")


def _invocations(paths: Paths) -> list[tuple[str, bool]]:
    """Each dbt invocation of this home, from its log: (command, whether it parsed)."""
    log = (paths.dbt_logs / "dbt.log").read_text(encoding="utf-8")
    found = []
    for part in log.split("Running with dbt=")[1:]:
        command = COMMAND.search(part)
        found.append((command.group(1) if command else "?", bool(PARSED.search(part))))
    return found


def _seed(paths: Paths, variables: dict[str, int]) -> None:
    outcome = run_dbt(dbt_args("seed", select=[SEED], variables=variables), paths)
    assert outcome.success, outcome.error
    # every invocation also runs the project's on-run-start hook (macros/utils/full_refresh.sql)
    assert [r.name for r in outcome.results if r.resource_type != "operation"] == [SEED]


def test_a_second_invocation_reuses_the_manifest_unless_vars_or_home_differ(
    home: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests.forget()
    _seed(home, {"lookback_days": 3})
    assert _invocations(home) == [("parse", True), ("seed", False)]

    _seed(home, {"lookback_days": 3})  # the same vars: the kept manifest, no parse
    assert _invocations(home)[2:] == [("seed", False)]

    _seed(home, {"lookback_days": 4})  # vars are read at parse time: parsed again
    assert _invocations(home)[3:] == [("parse", True), ("seed", False)]

    monkeypatch.setenv("CHATBATCH_HOME", str(tmp_path / "other"))
    other = Paths.from_env()
    _seed(other, {"lookback_days": 4})  # another home never gets this one's manifest
    assert _invocations(other) == [("parse", True), ("seed", False)]
    manifests.forget()


def test_the_kept_manifest_is_out_of_the_collectors_reach_until_forgotten(home: Paths) -> None:
    """A kept manifest is frozen (gc.freeze): the collector's full passes no longer scan it
    while dbt runs the nodes. Forgotten, it is handed back, so a process that parses again
    (another home, other vars) does not keep the old one alive."""
    manifests.forget()
    assert gc.get_freeze_count() == 0
    _seed(home, {"lookback_days": 3})
    frozen = gc.get_freeze_count()
    assert frozen > 100_000  # dbt's objects and the manifest's
    manifests.forget()
    assert gc.get_freeze_count() == 0


def test_a_parse_ahead_in_a_thread_is_the_one_the_next_invocation_runs_with(home: Paths) -> None:
    # the nightly parses in a thread while the ingest loads files (process/build.parse_ahead)
    manifests.forget()
    variables = {"lookback_days": 3}
    ahead = threading.Thread(target=parse_ahead, args=(dbt_args("build", variables=variables), home))
    ahead.start()
    ahead.join()
    assert _invocations(home) == [("parse", True)]
    _seed(home, variables)  # another command, the same parse: not parsed again
    assert _invocations(home) == [("parse", True), ("seed", False)]
    manifests.forget()


def test_only_options_that_choose_what_runs_leave_the_parse_key_alone() -> None:
    base = dbt_args("build", variables={"lookback_days": 3})
    same = dbt_args(
        "run",
        select=["a", "b"],
        exclude=["c"],
        variables={"lookback_days": 3},
        full_refresh=True,
        extra=("--exclude-resource-type", "unit_test"),
    )
    assert manifests.parse_key(same) == manifests.parse_key(base)
    for different in (
        dbt_args("build", variables={"lookback_days": 4}),
        dbt_args("build", target="ci", variables={"lookback_days": 3}),
        dbt_args("build"),
    ):
        assert manifests.parse_key(different) != manifests.parse_key(base)
    assert manifests.parse_args(same) == ["parse", *base[1:]]
    assert not manifests.reuses_manifest(dbt_args("retry"))
    assert not manifests.reuses_manifest(dbt_args("parse"))


def test_a_changed_project_file_changes_the_parse_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: p\n", encoding="utf-8")
    model = project / "models" / "m.sql"
    model.write_text("select 1\n", encoding="utf-8")
    monkeypatch.setattr(manifests, "PROJECT_DIR", project)
    args = dbt_args("build")
    before = manifests.parse_key(args)
    model.write_text("select 22\n", encoding="utf-8")
    changed = manifests.parse_key(args)
    (project / "models" / "n.sql").write_text("select 1\n", encoding="utf-8")
    assert len({before, changed, manifests.parse_key(args)}) == 3
