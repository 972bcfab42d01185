"""The README's analyst guide runs as written: every marked SQL query, and the Python
snippet, against a warehouse the real nightly batch published (opened read-only)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import duckdb
import pytest

from chatbatch.core.paths import PROJECT_DIR, Paths

README = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
QUERIES = re.findall(r"<!-- analyst-query -->\n```sql\n(.*?)```", README, re.DOTALL)
PYTHON = re.findall(r"<!-- analyst-python -->\n```python\n(.*?)```", README, re.DOTALL)


def test_the_guide_has_the_first_questions() -> None:
    assert len(QUERIES) >= 3 and len(PYTHON) == 1
    text = "\n".join(QUERIES)
    for table in ("marts.fct_conversations", "marts.fct_turns", "ops.batch_runs"):
        assert table in text
    assert "docs/metrics.md" in README and "mf query" in README


@pytest.mark.parametrize("number", range(len(QUERIES)))
def test_readme_query_runs_as_written(published_home: Paths, number: int) -> None:
    con = duckdb.connect(str(published_home.analytics), read_only=True)
    try:
        rows = con.execute(QUERIES[number]).fetchall()
    finally:
        con.close()
    assert rows, f"query {number + 1} of the README returned nothing:\n{QUERIES[number]}"


def test_readme_python_snippet_runs(published_home: Paths) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PYTHON[0]],
        env={**os.environ, "CHATBATCH_HOME": str(published_home.home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "conversation_date" in result.stdout
