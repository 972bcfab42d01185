"""Where a night's seconds go: ``py-spy`` samples of one ``chatbatch nightly``, attributed.

    python -m chatbatch_dev.bench.profile --home H --date D [--full-refresh] [--rate 50] [--raw F]

Runs ``py-spy record --native -f raw`` around ``chatbatch nightly`` on the home ``H`` (a
copy: the night changes it) and reads the samples back. Every sample is one thread at one
moment (``1 / rate`` thread-seconds), and it is attributed twice:

* **where**: the runner's module the stack runs in, below the orchestration (``nightly``,
  ``output.finish``, ...), e.g. ``process.dbt`` (the dbt invocations' main thread),
  ``output.archive``; ``dbt worker threads`` for the threads dbt starts to run nodes;
  ``DuckDB threads`` for DuckDB's own pool; ``imports`` for loading modules (at start-up
  or on a library's first use);
* **what**: ``DuckDB`` when the stack holds a frame of DuckDB's library (the SQL itself,
  whoever asked for it), else by the innermost Python frame: ``Jinja`` (dbt rendering
  SQL), ``dbt logging``, ``dbt (other Python)``, ``scikit-learn / numpy / scipy``,
  ``Arrow``, ``runner (Python)``, ``waiting`` (a thread parked in a wait: py-spy samples
  it though it uses no CPU), ``other``.

It prints thread-seconds per where and what (2 cores: a busy second is up to 2
thread-seconds) and, with ``--raw``, keeps the samples. ``docs/benchmark.md`` shows what
it found. py-spy is a dev dependency (``make venv``); it needs to be allowed to read the
child's memory (ptrace), which some containers forbid.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from chatbatch_dev.bench.harness import chatbatch_argv

# one stack: `frame;frame;...;frame <count>`, outermost first
_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
# chatbatch modules that only sequence the steps: a sample is attributed below them
_ORCHESTRATION = ("cli", "commands", "nightly", "output.finish", "output.workload", "process.night")
_WHAT_BY_FILE = (
    # a thread parked in a wait (dbt's pool handlers, a selector, a condition) uses no CPU
    ("selectors.py", "waiting"),
    ("threading.py", "waiting"),
    ("queue.py", "waiting"),
    ("multiprocessing/", "waiting"),
    ("jinja2/", "Jinja"),
    ("dbt/events/", "dbt logging"),
    ("dbt_common/events/", "dbt logging"),
    ("protobuf/", "dbt logging"),  # dbt serialises its events with protobuf
    ("logging/", "dbt logging"),
    ("dbt/", "dbt (other Python)"),
    ("dbt_common/", "dbt (other Python)"),
    ("sklearn/", "scikit-learn / numpy / scipy"),
    ("numpy/", "scikit-learn / numpy / scipy"),
    ("scipy/", "scikit-learn / numpy / scipy"),
    ("pyarrow/", "Arrow"),
    ("chatbatch/", "runner (Python)"),
)


@dataclass(frozen=True)
class Frame:
    function: str
    file: str

    @property
    def is_duckdb(self) -> bool:
        return "_duckdb" in self.file or self.function.startswith("duckdb::")

    @property
    def runner_module(self) -> str | None:
        """``output.archive`` for a frame of chatbatch/output/archive.py, else None."""
        match = re.search(r"(?:^|/)chatbatch/(.+)\.py$", self.file)
        return match.group(1).replace("/", ".").removesuffix(".__init__") if match else None


def parse_frame(text: str) -> Frame:
    match = _FRAME.match(text)
    return Frame(match["function"], match["file"]) if match else Frame(text, "")


@dataclass
class Profile:
    rate: int
    wall_seconds: float | None = None
    samples: Counter[tuple[str, str]] = field(default_factory=Counter)  # (where, what) -> samples

    def seconds(self, where: str | None = None, what: str | None = None) -> float:
        return (
            sum(
                n
                for (w, k), n in self.samples.items()
                if (where is None or w == where) and (what is None or k == what)
            )
            / self.rate
        )

    def add(self, stack: list[Frame], count: int) -> None:
        self.samples[(where_of(stack), what_of(stack))] += count


def where_of(stack: list[Frame]) -> str:
    if any(f.file.startswith("<frozen importlib") for f in stack):
        return "imports"  # at start-up or the first use of a library, whichever step
    modules = [m for m in (f.runner_module for f in stack) if m]
    below = [m for m in modules if not m.startswith(_ORCHESTRATION) and not m.startswith("core.")]
    if below:
        return below[0]
    if modules:
        return modules[-1]
    if any(f.file.startswith(("dbt/", "dbt_common/")) or "/dbt/" in f.file for f in stack):
        return "dbt worker threads"
    if (
        stack
        and all(f.is_duckdb or not f.file.endswith(".py") for f in stack)
        and any(f.is_duckdb for f in stack)
    ):
        return "DuckDB threads"
    return "other"


def what_of(stack: list[Frame]) -> str:
    if any(f.is_duckdb for f in stack):
        return "DuckDB"
    python = [f for f in stack if f.file.endswith(".py") or f.file.startswith("<frozen")]
    innermost = python[-1].file if python else ""
    for fragment, what in _WHAT_BY_FILE:
        if fragment in innermost:
            return what
    return "other"


def read_raw(text: str, rate: int) -> Profile:
    profile = Profile(rate)
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if not match:
            continue
        frames = [parse_frame(part) for part in match["stack"].split(";")]
        # py-spy prefixes `process ...` / `thread ...` pseudo-frames with --threads / --subprocesses
        frames = [f for f in frames if not f.function.startswith(("process ", "thread "))]
        profile.add(frames, int(match["count"]))
    return profile


def table(profile: Profile) -> str:
    wheres = sorted({w for w, _ in profile.samples}, key=lambda w: -profile.seconds(where=w))
    whats = sorted({k for _, k in profile.samples}, key=lambda k: -profile.seconds(what=k))
    lines = []
    if profile.wall_seconds is not None:
        lines.append(f"wall {profile.wall_seconds:.1f} s; {profile.seconds():.1f} thread-seconds sampled")
    lines.append(f"{'where':<34} {'thread-s':>9} {'in DuckDB':>10}")
    for where in wheres:
        lines.append(
            f"{where:<34} {profile.seconds(where=where):>9.1f} {profile.seconds(where, 'DuckDB'):>10.1f}"
        )
    lines.append("")
    lines.append(f"{'what':<34} {'thread-s':>9}")
    for what in whats:
        lines.append(f"{what:<34} {profile.seconds(what=what):>9.1f}")
    return "\n".join(lines)


def record(home: Path, run_date: str, full_refresh: bool, rate: int, raw: Path) -> Profile:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: make venv (a dev dependency) or pip install py-spy")
    nightly = chatbatch_argv("nightly", "--date", run_date, *(["--full-refresh"] if full_refresh else []))
    argv = [py_spy, "record", "--native", "-r", str(rate), "-f", "raw", "-o", str(raw), "--", *nightly]
    started = time.monotonic()
    done = subprocess.run(argv, env={**os.environ, "CHATBATCH_HOME": str(home)}, check=False)
    wall = time.monotonic() - started
    if not raw.exists():
        raise SystemExit(f"py-spy wrote no samples (exit {done.returncode}): is ptrace allowed here?")
    profile = read_raw(raw.read_text(encoding="utf-8"), rate)
    profile.wall_seconds = wall
    return profile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbatch_dev.bench.profile", description=__doc__)
    parser.add_argument("--home", type=Path, help="the CHATBATCH_HOME to run the night on (it changes)")
    parser.add_argument("--date", help="the night's run date (chatbatch nightly --date)")
    parser.add_argument("--full-refresh", action="store_true")
    parser.add_argument("--rate", type=int, default=50, help="samples per second per thread (default 50)")
    parser.add_argument("--raw", type=Path, help="keep py-spy's raw samples here")
    parser.add_argument("--read", type=Path, help="only attribute an earlier --raw file")
    args = parser.parse_args(argv)
    if args.read:
        print(table(read_raw(args.read.read_text(encoding="utf-8"), args.rate)))
        return 0
    if not args.home or not args.date:
        parser.error("--home and --date (or --read)")
    with tempfile.TemporaryDirectory() as scratch:
        raw = args.raw or Path(scratch) / "profile.raw"
        print(table(record(args.home, args.date, args.full_refresh, args.rate, raw)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
