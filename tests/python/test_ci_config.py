"""Pull-request CI and pre-commit are well-formed and do what the README says; every YAML
file of the repository parses (what pre-commit's check-yaml does, without the network)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from chatbatch.core.paths import PROJECT_DIR

SKIP_DIRS = {".venv", "build", "target", "data", "logs", "dbt_packages", ".git"}


def _yaml_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.yml", "*.yaml"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode == 0:
        return [PROJECT_DIR / name for name in listed.stdout.split()]
    return [
        p for p in PROJECT_DIR.rglob("*.y*ml") if not SKIP_DIRS.intersection(p.relative_to(PROJECT_DIR).parts)
    ]


def test_every_yaml_file_parses() -> None:
    files = _yaml_files()
    assert len(files) >= 10
    for path in files:
        with path.open(encoding="utf-8") as handle:
            list(yaml.safe_load_all(handle))  # raises on a syntax error, naming the file


def test_pull_request_workflow_lints_builds_tests_and_runs_slim_ci() -> None:
    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers
    steps = {
        name: "\n".join(str(step.get("run", "")) for step in job["steps"])
        for name, job in workflow["jobs"].items()
    }
    everything = "\n".join(steps.values())
    for command in ("make lint", "make dbt-ci", "make pytest", "make docs-generate"):
        assert command in everything, command
    slim = steps["slim-build"]
    assert "--select state:modified+" in slim and "--defer" in slim and "--state" in slim
    assert workflow["jobs"]["slim-build"]["if"] == "github.event_name == 'pull_request'"


def test_pre_commit_runs_sqlfluff_ruff_and_yaml_checks() -> None:
    config = yaml.safe_load((PROJECT_DIR / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"check-yaml", "ruff-check", "ruff-format", "sqlfluff-lint"} <= set(hooks)
    for hook_id in ("ruff-check", "ruff-format", "sqlfluff-lint"):
        assert hooks[hook_id]["language"] == "system"  # the pinned tools of .venv, like make lint
    assert ".venv/bin/sqlfluff lint" in hooks["sqlfluff-lint"]["entry"]
