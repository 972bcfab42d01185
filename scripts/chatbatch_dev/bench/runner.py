"""One benchmark scale, step by step, on one generated data set.

generate ─ cold build (nightly through day H on an empty home)
         ─ nightly for day H+1 (from fresh copies of that home, repeated)
         ─ full refresh of H+1 days (from copies of the day-H+1 home, repeated)
         ─ no-op night: the nightly of day H+1 again on copies of its home (noop.py, repeated)
         ─ cost against day volume: one new day of N conversations on copies of the day-H home,
           its nightly and its engine floor (volume.py; once per N)
         ─ engine floor of the full refresh: its compiled SQL in one DuckDB connection (floor.py)
         ─ redaction alone on the full refresh's messages, row by row and vectorised (repeated)
         ─ SQL reference and pandas script over the same landing files (repeated)
         ─ agreement of the daily reports
         ─ the same cold build and nightly on the long history (90 days), its nightly twice,
           with the nightly of day H+1 on the day-H home run again before, between and after
           them (side by side: the 90-day catch-up between the two first measurements takes
           ~10 minutes, over which the machine's speed drifts)
         ─ per extra source format (``--formats``): the same history generated in that format
           into its own home (with its ``sources.yml``), its cold build and nightly of day H+1
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from chatbatch.contract.sources import CONFIG_FILE
from chatbatch_dev.bench.compare import compare_reports
from chatbatch_dev.bench.floor import measure as measure_floor
from chatbatch_dev.bench.harness import (
    ChildEnv,
    Run,
    Step,
    bench_step_argv,
    chatbatch_argv,
    clone_home,
    count_rows,
    last_history_record,
    log_tail,
    nightly_details,
    parquet_rows,
    run_child,
    step_output,
)
from chatbatch_dev.bench.noop import measure as measure_noop
from chatbatch_dev.bench.redaction import measure_steps as measure_redaction
from chatbatch_dev.bench.scales import Scale
from chatbatch_dev.bench.volume import measure as measure_volume
from chatbatch_dev.generator.formats import sources_config

Say = Callable[[str], None]
FLOOR = "engine_floor"  # the step of the full refresh's engine floor (the cold build's at smoke)
# long-history nights per run, interleaved with the nightly at H days (``long_history``)
LONG_NIGHTS = 2
AGREEMENT_SCOPE = "the SQL reference and pandas scripts read v1 JSONL, so other formats are not compared"


@dataclass
class ScaleRun:
    """Everything measured for one scale."""

    scale: Scale
    root: Path
    env: ChildEnv
    repeat: int
    say: Say
    with_pandas: bool = True
    keep: bool = False
    formats: tuple[str, ...] = ("v1",)  # v1 always runs; the others add their cold build and nightly
    steps: dict[str, Step] = field(default_factory=dict)
    agreement: dict[str, Any] | None = None

    # -- helpers ---------------------------------------------------------------

    def add_step(self, key: str, label: str) -> Step:
        self.steps[key] = Step(name=key, label=label)
        return self.steps[key]

    def measure(self, step: Step, argv: list[str], home: Path | None, index: int) -> Run:
        run = run_child(argv, self.env.environ(home), self.root / "logs" / f"{step.name}-{index}.log")
        step.runs.append(run)
        if run.exit_code != 0:
            step.error = f"exit {run.exit_code}; log {run.log}:\n{log_tail(run.log)}"
        self.say(
            f"  {step.name} #{index + 1}: {run.seconds:.1f} s, peak {run.peak_rss_mib:,.0f} MiB"
            + ("" if run.exit_code == 0 else f" FAILED (exit {run.exit_code}, see {run.log})")
        )
        return run

    def run_nightly(
        self,
        step: Step,
        home: Path,
        day: date,
        index: int,
        accept: tuple[str, ...] = ("ok",),
        full_refresh: bool = False,
    ) -> Run:
        """``chatbatch nightly`` of ``day`` on ``home``; a batch status outside ``accept`` fails it."""
        args = ["nightly", "--date", day.isoformat()] + (["--full-refresh"] if full_refresh else [])
        before = int(last_history_record(home).get("batch_id", 0))
        run = self.measure(step, chatbatch_argv(*args), home, index)
        run.details = nightly_details(home, after=before)
        if run.exit_code == 0 and run.details.get("status") not in accept:
            run.exit_code = 1  # e.g. "skipped": the step did not do what it measures
            step.error = f"batch status {run.details.get('status')!r}: {run.details.get('error')}"
        return run

    def repeat_nightly(
        self,
        step: Step,
        source: Path,
        keep_as: Path,
        day: date,
        full_refresh: bool = False,
        accept: tuple[str, ...] = ("ok",),
        times: int | None = None,
        after_each: Callable[[int], None] | None = None,
    ) -> bool:
        """Run a nightly ``times`` times (default ``repeat``), each on a fresh copy of
        ``source``; keep the last. ``after_each(index)`` runs after each measured run."""
        for index in range(self.repeat if times is None else times):
            copy = self.nightly_on_copy(step, source, day, index, accept, full_refresh)
            if copy is None:
                return False
            if keep_as.exists():
                shutil.rmtree(keep_as)
            copy.rename(keep_as)
            if after_each:
                after_each(index)
        return True

    def nightly_on_copy(
        self,
        step: Step,
        source: Path,
        day: date,
        index: int,
        accept: tuple[str, ...] = ("ok",),
        full_refresh: bool = False,
    ) -> Path | None:
        """A nightly of ``day`` on a fresh copy of ``source`` (parsed first), measured as run
        ``index`` of ``step``: the copy, or None (and no copy) when it failed."""
        copy = self.root / f"{step.name}-{index}"
        try:
            clone_home(source, copy)
        except OSError as error:  # e.g. a full disk: the step fails, the run goes on
            shutil.rmtree(copy, ignore_errors=True)
            step.error = f"could not copy the home {source} for the run: {error}"
            return None
        self.warm_parse(copy)
        run = self.run_nightly(step, copy, day, index, accept, full_refresh)
        if run.exit_code != 0:
            shutil.rmtree(copy, ignore_errors=True)
            return None
        return copy

    def warm_parse(self, home: Path) -> None:
        """Set-up, not measured: parse the dbt project for the copy's own path.

        dbt keeps its parse in the home (``state/dbt``) and reuses it only while the
        profile is unchanged; the profile names the warehouse by the home's path, so a
        copied home would pay a full parse (~8 s here) that a home living at one path
        never pays night after night. Parsing here gives the copy the state such a
        home has before its nightly.
        """
        log = self.root / "logs" / f"parse-{home.name}.log"
        run = run_child(bench_step_argv("parse"), self.env.environ(home), log)
        if run.exit_code != 0:
            self.say(f"  (parse of {home.name} failed, the nightly will parse in full: {log})")

    def _skip(self, key: str, label: str, reason: str) -> None:
        self.add_step(key, label).skipped = reason

    # -- steps -----------------------------------------------------------------

    def generate(self, fmt: str = "v1") -> Path | None:
        """Write the exports into the seed home's landing (repeated runs go to scratch).

        Another format is generated once (the ``generate`` figure is v1's) into its own seed
        home, with the ``sources.yml`` that makes the home read it.
        """
        scale = self.scale
        suffix = "" if fmt == "v1" else f"_{fmt}"
        step = self.add_step(
            f"generate{suffix}",
            f"generate {scale.generated_days} d x {scale.conversations_per_day:,}/d"
            + ("" if fmt == "v1" else f" ({fmt})"),
        )
        seed_home = self.root / f"seed_home{suffix}"
        for index in range(self.repeat if fmt == "v1" else 1):
            landing = (seed_home if index == 0 else self.root / "scratch") / "landing"
            shutil.rmtree(landing.parent, ignore_errors=True)
            argv = chatbatch_argv(
                "generate",
                "--start",
                scale.start.isoformat(),
                "--days",
                str(scale.generated_days),
                "--conversations-per-day",
                str(scale.conversations_per_day),
                "--seed",
                str(scale.seed),
                "--dirty-rate",
                "0",
                "--landing",
                str(landing),
                "--format",
                fmt,
            )
            run = self.measure(step, argv, None, index)
            if index > 0:
                shutil.rmtree(landing.parent, ignore_errors=True)
            if run.exit_code != 0:
                return None
        if fmt != "v1":
            config = yaml.safe_dump(sources_config(fmt), sort_keys=False)
            (seed_home / CONFIG_FILE).write_text(config, encoding="utf-8")
        summary = next((seed_home / "landing" / "_generator").glob("summary-*.json"))
        step.rows, step.rows_label = int(json.loads(summary.read_text())["messages"]), "messages"
        return seed_home

    def history(self, seed_home: Path, days: int, suffix: str, fmt: str = "v1") -> Path | None:
        """Cold build: an empty home runs the nightly through day ``days`` (once)."""
        tag = "" if fmt == "v1" else f" ({fmt})"
        step = self.add_step(f"cold_build{suffix}", f"cold build{tag}: nightly catching up {days} d")
        home = self.history_home(days, fmt)
        clone_home(seed_home, home)
        run = self.run_nightly(step, home, self.scale.day(days), 0)
        step.rows, step.rows_label = run.details.get("lines_read"), "lines ingested"
        return home if run.exit_code == 0 else None

    def history_home(self, days: int, fmt: str = "v1") -> Path:
        """Where the cold build of ``days`` days lives."""
        return self.root / f"home{_home_tag(fmt)}_{days}d"

    def nightly(self, home: Path, days: int, suffix: str, fmt: str = "v1") -> Path | None:
        """The nightly for day ``days`` + 1 on a home holding ``days`` days."""
        tag = "" if fmt == "v1" else f" ({fmt})"
        step = self.add_step(f"nightly{suffix}", f"nightly{tag} day {days + 1} on {days} d")
        target = self.root / f"home{_home_tag(fmt)}_{days + 1}d_nightly"
        if not self.repeat_nightly(step, home, target, self.scale.day(days + 1), full_refresh=False):
            return None
        _count_new_lines(step)
        return target

    def full_refresh(self, home: Path, days: int) -> Path | None:
        """``nightly --full-refresh`` on copies of a home holding ``days`` days."""
        step = self.add_step("full_refresh", f"full refresh of {days} d")
        target = self.root / f"home_{days}d_full_refresh"
        if not self.repeat_nightly(step, home, target, self.scale.day(days), full_refresh=True):
            return None
        step.rows, step.rows_label = count_rows(target / "analytics.duckdb", "marts.fct_messages"), "messages"
        return target

    def script(self, kind: str, landing: Path, until: date) -> Path | None:
        """The SQL reference or the pandas script over the landing files up to ``until``."""
        labels = {"reference": "DuckDB SQL reference script", "pandas": "pandas script"}
        step = self.add_step(kind, f"{labels[kind]} ({(until - self.scale.start).days + 1} d)")
        out = self.root / f"{kind}.parquet"
        for index in range(self.repeat):
            argv = bench_step_argv(
                kind, "--landing", str(landing), "--until", until.isoformat(), "--out", str(out)
            )
            run = self.measure(step, argv, None, index)
            if run.exit_code != 0:
                return None
            run.details = step_output(run.log)
        step.rows, step.rows_label = parquet_rows(out), "report rows"
        return out

    # -- the whole scale ---------------------------------------------------------

    def run(self) -> None:
        scale = self.scale
        self.root.mkdir(parents=True, exist_ok=True)
        self.say(f"== bench scale {scale.name} in {self.root} (repeat {self.repeat})")
        seed_home = self.generate()
        if seed_home is None:
            return
        history_days, last_day = scale.history_days, scale.day(scale.history_days + 1)
        reports: dict[str, Path] = {}
        if scale.incremental:
            self.incremental(seed_home, history_days, reports)
        else:
            home = self.history(seed_home, history_days + 1, "")
            reports["dbt_cold_build"] = (home or self.root / "missing") / "analytics.duckdb"
            if home:
                measure_floor(self, FLOOR, f"engine floor of the cold build ({history_days + 1} d)", home)
            for key, label in (("nightly", "nightly"), ("full_refresh", "full refresh")):
                self._skip(key, label, f"not at scale {scale.name}")
        reference = self.script("reference", seed_home / "landing", last_day)
        reports["sql_reference"] = reference or self.root / "reference.parquet"
        if self.with_pandas:
            reports["pandas"] = self.script("pandas", seed_home / "landing", last_day) or (
                self.root / "pandas.parquet"
            )
        else:
            self._skip("pandas", "pandas script", "--skip-pandas")
        self.agreement = compare_reports(reports)
        scope = f" (v1 landing only: {AGREEMENT_SCOPE})" if len(self.formats) > 1 else ""
        self.say(f"  daily reports agree: {self.agreement['agree']}{scope}")
        if not self.keep:
            short_home = self.history_home(history_days)  # long_history runs its nightly again
            for path in self.root.glob("home_*"):
                if not (scale.long_history_days and path == short_home):
                    shutil.rmtree(path, ignore_errors=True)
        for fmt in self.formats:
            if fmt != "v1":
                self.other_format(fmt, history_days)
        if scale.long_history_days:
            self.long_history(seed_home, scale.long_history_days)
        if not self.keep:
            shutil.rmtree(seed_home, ignore_errors=True)

    def incremental(self, seed_home: Path, history_days: int, reports: dict[str, Path]) -> None:
        """Cold build through day H, nightly of day H+1, full refresh of H+1 days."""
        home = self.history(seed_home, history_days, "")
        nightly_home = self.nightly(home, history_days, "") if home else None
        if nightly_home:
            measure_noop(self, nightly_home, self.scale.day(history_days + 1), history_days + 1)
        if home and nightly_home and self.scale.volume_conversations:
            measure_volume(self, self.scale, home)
        if home and not self.keep and not self.scale.long_history_days:
            shutil.rmtree(home, ignore_errors=True)  # else long_history runs its nightly again
        refreshed = self.full_refresh(nightly_home, history_days + 1) if nightly_home else None
        if refreshed:
            label = f"engine floor of the full refresh ({history_days + 1} d)"
            measure_floor(self, FLOOR, label, refreshed)
            measure_redaction(self, refreshed)
        reports["dbt_full_refresh"] = (refreshed or self.root / "missing") / "analytics.duckdb"
        reports["dbt_nightly"] = (nightly_home or self.root / "missing") / "analytics.duckdb"

    def other_format(self, fmt: str, history_days: int) -> None:
        """The same history as another source format: its cold build and nightly, as for v1.

        At a scale without a nightly (smoke) only the cold build of H+1 days runs, as for v1.
        """
        suffix = f"_{fmt}"
        seed_home = self.generate(fmt)
        if seed_home is None:
            return
        if self.scale.incremental:
            home = self.history(seed_home, history_days, suffix, fmt)
            nightly_home = self.nightly(home, history_days, suffix, fmt) if home else None
            leftovers = [home, nightly_home]
        else:
            leftovers = [self.history(seed_home, history_days + 1, suffix, fmt)]
            self._skip(f"nightly{suffix}", f"nightly ({fmt})", f"not at scale {self.scale.name}")
        if not self.keep:
            for path in [*leftovers, seed_home]:
                if path:
                    shutil.rmtree(path, ignore_errors=True)

    def long_history(self, seed_home: Path, days: int) -> None:
        """Cold build and nightlies on the long history. The long night runs ``LONG_NIGHTS``
        times, and the nightly of day H+1 on the day-H home (kept by ``incremental``) runs
        before, between and after them: the goal compares the medians of the two, measured
        side by side (one long night against two short ones met the goal in one large run
        of five on the same code: the machine's drift is the size of the effect)."""
        history_days = self.scale.history_days
        short_home = self.history_home(history_days)
        home = self.history(seed_home, days, "_long")
        beside = self.add_step(
            "nightly_beside_long",
            f"nightly day {history_days + 1} on {history_days} d, again beside the long nightly",
        )
        long_step = self.add_step("nightly_long", f"nightly day {days + 1} on {days} d")

        def again(index: int) -> None:  # the copy goes at once: the disk holds the 90-day homes
            if short_home.is_dir():
                copy = self.nightly_on_copy(beside, short_home, self.scale.day(history_days + 1), index)
                if copy:
                    shutil.rmtree(copy, ignore_errors=True)

        long_nightly = self.root / f"home_{days + 1}d_nightly_long"
        if home:
            again(0)
            day = self.scale.day(days + 1)
            self.repeat_nightly(
                long_step, home, long_nightly, day, times=LONG_NIGHTS, after_each=lambda i: again(i + 1)
            )
        else:
            long_step.skipped = "no long history"
        if not beside.runs:
            beside.skipped = "no day-H home or no long history"
        _count_new_lines(beside)
        _count_new_lines(long_step)
        if not self.keep:
            for path in (home, long_nightly, short_home):
                if path:
                    shutil.rmtree(path, ignore_errors=True)


def _count_new_lines(step: Step) -> None:
    """A nightly step's rows: the new lines its median run read."""
    run = step.median_run()
    step.rows, step.rows_label = (run.details.get("lines_read") if run else None), "new lines"


def _home_tag(fmt: str) -> str:
    return "" if fmt == "v1" else f"_{fmt}"
