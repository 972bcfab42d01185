"""privacy.yml: the retention settings, their defaults and the errors a bad value gives."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from chatbatch.core.errors import ConfigError
from chatbatch.core.exit_codes import ExitCode
from chatbatch.core.paths import Paths
from chatbatch.privacy.settings import DEFAULT_SNAPSHOTS_KEEP, KINDS, Retention


def _load(tmp_path: Path, text: str | None) -> Retention:
    if text is not None:
        (tmp_path / "privacy.yml").write_text(text)
    return Retention.load(Paths(tmp_path))


def test_defaults_delete_nothing_but_old_snapshots(tmp_path: Path) -> None:
    retention = _load(tmp_path, None)
    assert {kind: retention.of(kind) for kind in KINDS if retention.of(kind) is not None} == {
        "snapshots": DEFAULT_SNAPSHOTS_KEEP
    }
    assert retention.first_archive_month(date(2026, 11, 5)) is None


def test_a_file_sets_each_kind(tmp_path: Path) -> None:
    retention = _load(tmp_path, "retention:\n  archive_months: 3\n  ml_versions: 2\n  raw_lines_days: null\n")
    assert retention.of("ml") == 2 and retention.of("raw_lines") is None
    assert retention.first_archive_month(date(2026, 1, 15)) == date(2025, 11, 1)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("retention: {raw_lines_days: -1}", "must be a whole number >= 1"),
        ("retention: {raw_lines_days: ten}", "must be a whole number >= 1"),
        ("retention: {snapshots_keep: null}", "restore needs one"),
        ("retention: {bogus: 1}", "unknown retention setting(s) bogus"),
        ("keep: forever", "expected one key"),
        ("retention: [1", "not valid YAML"),
    ],
)
def test_bad_values_are_usage_errors(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert says in " ".join(caught.value.lines()) and caught.value.exit_code == ExitCode.USAGE
