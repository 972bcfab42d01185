"""Incremental nights equal a full refresh on a Langfuse export and on OTel GenAI spans.

The models of these sources resolve spans trace by trace and map them conversation by
conversation, incrementally (macros/incremental/changed_traces.sql). Here each format's
simulated days (with late exports: spans and observations of a conversation arriving days
after it started, Langfuse windows sharing their boundary records, OTel re-sends) are caught
up batch by batch in one home (``--catch-up-days``) and as one full refresh in another;
every published mart and audit table must be equal, row for row (the topic-model rows as in
test_nightly).
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml
from chatbatch_dev.generator import generate
from chatbatch_dev.generator.formats import FormatOptions, sources_config

from chatbatch.accumulate import landing
from chatbatch.cli import main
from chatbatch.contract.sources import SourceConfig
from chatbatch.core.paths import Paths
from chatbatch.monitor.history import RunHistory
from tests.python.marts import TOPIC_MODEL_ROWS, fingerprint

START, DAYS, PER_DAY, SEED = date(2026, 11, 1), 4, 40, 11
# late arrivals come with the dirty rate (formats.py); dirty lines themselves are v1 only
LATE_RATE = 0.05
PER_TRACE_MODELS = {
    "langfuse": ("int_langfuse_observations_resolved",),
    "otel": ("stg_otel__span_events", "int_otel_span_messages", "int_otel_spans_resolved"),
}


def _in_home(home: Path, patch: pytest.MonkeyPatch) -> None:
    patch.setenv("CHATBATCH_HOME", str(home))
    Paths.from_env().export()


def _nights(root: Path, fmt: str) -> tuple[Path, Path]:
    """The format's days run night by night in ``nightly``, as one full refresh in ``full``."""
    nightly, full = root / "nightly", root / "full"
    with pytest.MonkeyPatch.context() as patch:
        _in_home(nightly, patch)
        nightly.mkdir(parents=True, exist_ok=True)
        (nightly / "sources.yml").write_text(yaml.safe_dump(sources_config(fmt)), encoding="utf-8")
        generate(
            landing=Paths.from_env().landing,
            start=START,
            days=DAYS,
            conversations_per_day=PER_DAY,
            seed=SEED,
            dirty_rate=LATE_RATE,
            options=FormatOptions(format=fmt),
        )
        shutil.copytree(nightly / "landing", full / "landing")
        shutil.copy(nightly / "sources.yml", full / "sources.yml")
        found = landing.discover(nightly / "landing", SourceConfig.load(nightly))
        dates = sorted({f.export_date for f in found.files})
        assert len(dates) >= DAYS
        # one nightly catching the backlog up in two batches (late exports run days past
        # the last simulated day): the catch-up slicing of nightly.py, end to end
        slice_days = -(-len(dates) // 2)
        assert main(["nightly", "--date", dates[-1].isoformat(), "--catch-up-days", str(slice_days)]) == 0
        batches = [r for r in RunHistory(nightly).records() if r.status == "ok"]
        assert [b.run_date for b in batches] == [
            *(d.isoformat() for d in dates[slice_days - 1 : -1 : slice_days]),
            dates[-1].isoformat(),
        ]
        # each batch ran in its own process (core/child.py), none in this one
        pids = [b.pid for b in batches]
        assert len(set(pids)) == len(pids) and os.getpid() not in pids
        _in_home(full, patch)
        assert main(["nightly", "--date", dates[-1].isoformat(), "--full-refresh"]) == 0
    return nightly / "analytics.duckdb", full / "analytics.duckdb"


@pytest.fixture(scope="module", params=["langfuse", "otel"])
def homes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    fmt = request.param
    return (fmt, *_nights(tmp_path_factory.mktemp(f"incremental_{fmt}"), fmt))


def test_incremental_nights_equal_a_full_refresh(homes: tuple[str, Path, Path]) -> None:
    _, nightly, full = homes
    nightly_prints = fingerprint(nightly, where=TOPIC_MODEL_ROWS)
    assert nightly_prints == fingerprint(full, where=TOPIC_MODEL_ROWS)
    assert nightly_prints["marts.fct_messages"][0] > 0


def test_late_spans_were_folded_into_earlier_conversations(homes: tuple[str, Path, Path]) -> None:
    """The comparison above means something: conversations were recomputed on a later night
    (their traces had new spans or observations), and the per-trace models kept each trace's
    rows from one run only."""
    fmt, nightly, _ = homes
    con = duckdb.connect(str(Paths(home=nightly.parent).warehouse), read_only=True)
    try:
        refolded = con.execute(
            "select count(*) from (select conversation_id from intermediate.int_conversations_changed "
            "where is_content_changed group by 1 having count(distinct batch_id) > 1)"
        ).fetchone()[0]
        assert refolded > 0
        for model in PER_TRACE_MODELS[fmt]:
            schema = "staging" if model.startswith("stg_") else "intermediate"
            mixed = con.execute(
                f"select count(*) from (select trace_id from {schema}.{model} "
                "group by 1 having count(distinct _processed_batch_id) > 1)"
            ).fetchone()[0]
            runs = con.execute(
                f"select count(distinct _processed_batch_id) from {schema}.{model}"
            ).fetchone()[0]
            assert mixed == 0 and runs > 1, (model, mixed, runs)
    finally:
        con.close()
