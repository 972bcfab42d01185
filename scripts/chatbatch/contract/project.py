"""The dbt project's ``vars`` (dbt_project.yml): the one place Python reads them.

The contract, the raw tables of each source and the thresholds the runner shares with
the models (e.g. ``low_confidence_threshold``) are defined there once."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from chatbatch.core.paths import PROJECT_DIR


@cache
def project_vars(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    path = project_dir / "dbt_project.yml"
    return dict((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("vars") or {})
