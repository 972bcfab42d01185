"""The night profiler's attribution (chatbatch_dev.bench.profile) on py-spy raw samples.

The samples below have the shapes `py-spy record --native -f raw` writes for a night (taken
from a real profile, shortened): the main thread in dbt's invocation and in a runner step
calling DuckDB, a dbt worker thread rendering Jinja and running SQL, DuckDB's own pool, and
the interpreter's start-up. Recording itself needs ptrace (py-spy), which is why it is run
by hand (docs/benchmark.md), not here.
"""

from __future__ import annotations

from chatbatch_dev.bench import profile

RAW = "\n".join(
    [
        # main thread: the archive step asks DuckDB for a month file
        "<module> (chatbatch/cli.py:9);main (chatbatch/cli.py:40);run (chatbatch/nightly.py:53);"
        "audit_and_publish (chatbatch/output/finish.py:70);run (chatbatch/output/workload.py:88);"
        "write (chatbatch/output/archive.py:120);connect (chatbatch/core/duck.py:37);"
        "0x7f1 (_duckdb.cpython-311-x86_64-linux-gnu.so);"
        "duckdb::PipelineExecutor::Execute (_duckdb.cpython-311-x86_64-linux-gnu.so) 100",
        # main thread: the archive step's own Python
        "<module> (chatbatch/cli.py:9);run (chatbatch/nightly.py:53);"
        "write (chatbatch/output/archive.py:131) 25",
        # main thread inside dbt's invocation, loading the manifest
        "<module> (chatbatch/cli.py:9);run (chatbatch/nightly.py:53);build (chatbatch/process/build.py:60);"
        "invoke (chatbatch/process/dbt.py:150);invoke (dbt/cli/main.py:120);"
        "read_manifest (dbt/parser/manifest.py:300) 50",
        # a dbt worker thread: Jinja, then SQL
        "_bootstrap (threading.py:1002);run (dbt/task/base.py:380);"
        "render (jinja2/environment.py:1301);call (jinja2/runtime.py:300) 40",
        "_bootstrap (threading.py:1002);run (dbt/task/base.py:380);"
        "execute (dbt/adapters/duckdb/environments/local.py:40);"
        "0x7f2 (_duckdb.cpython-311-x86_64-linux-gnu.so) 200",
        "_bootstrap (threading.py:1002);fire_event (dbt_common/events/functions.py:150) 5",
        # DuckDB's own thread pool (no Python frame)
        "clone (libc.so.6);"
        "duckdb::TaskScheduler::ExecuteForever (_duckdb.cpython-311-x86_64-linux-gnu.so) 150",
        # an import
        "<module> (chatbatch/cli.py:1);_find_and_load (<frozen importlib._bootstrap>:1176);"
        "<module> (sklearn/__init__.py:80) 30",
        # dbt's thread pool handler, parked
        "_bootstrap (threading.py:1002);Pool._handle_results (multiprocessing/pool.py:579) 60",
        "not a sample line",
    ]
)


def test_attributes_each_sample_to_a_step_and_to_what_it_did() -> None:
    found = profile.read_raw(RAW, rate=50)
    assert found.seconds() == (100 + 25 + 50 + 40 + 200 + 5 + 150 + 30 + 60) / 50
    assert found.seconds(what="waiting") == 60 / 50
    assert found.seconds(where="output.archive") == 125 / 50
    assert found.seconds(where="output.archive", what="DuckDB") == 100 / 50
    assert found.seconds(where="output.archive", what="runner (Python)") == 25 / 50
    assert found.seconds(where="process.build", what="dbt (other Python)") == 50 / 50
    assert found.seconds(where="dbt worker threads", what="Jinja") == 40 / 50
    assert found.seconds(where="dbt worker threads", what="DuckDB") == 200 / 50
    assert found.seconds(where="dbt worker threads", what="dbt logging") == 5 / 50
    assert found.seconds(where="DuckDB threads", what="DuckDB") == 150 / 50
    assert found.seconds(what="DuckDB") == 450 / 50
    # loading a module counts as imports, whichever step it happens in
    assert found.seconds(where="imports") == 30 / 50


def test_table_lists_every_where_and_what() -> None:
    text = profile.table(profile.read_raw(RAW, rate=50))
    for label in ("output.archive", "dbt worker threads", "DuckDB threads", "Jinja", "DuckDB"):
        assert label in text
