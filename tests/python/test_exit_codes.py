"""Exit codes exist once (chatbatch.core.exit_codes); the copies that cannot import it,
the cron wrapper's table and the Airflow DAG's constants, agree with it."""

from __future__ import annotations

import ast
import re

import pytest

from chatbatch.cli import main
from chatbatch.core.exit_codes import ExitCode, describe
from chatbatch.core.paths import PROJECT_DIR

DEPLOY = PROJECT_DIR / "deploy"


def test_cron_wrapper_names_every_exit_code_as_chatbatch_does() -> None:
    wrapper = (DEPLOY / "cron" / "chatbatch-nightly.sh").read_text(encoding="utf-8")
    table = {
        int(code): meaning for code, meaning in re.findall(r'^\s*(\d+)\) meaning="([^"]*)" ;;', wrapper, re.M)
    }
    assert table == {int(code): code.meaning for code in ExitCode}


def test_airflow_dag_constants_are_chatbatchs_exit_codes() -> None:
    tree = ast.parse((DEPLOY / "airflow" / "dags" / "chatbatch_nightly.py").read_text(encoding="utf-8"))
    constants: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple):
            names = [target.id for target in node.targets[0].elts if isinstance(target, ast.Name)]
            if names and all(name.startswith("EXIT_") for name in names):
                constants.update(zip(names, ast.literal_eval(node.value), strict=True))
    assert constants == {f"EXIT_{code.name}": int(code) for code in ExitCode}


def test_readme_states_the_exit_codes() -> None:
    readme = " ".join((PROJECT_DIR / "README.md").read_text(encoding="utf-8").split())
    assert f"**Exit codes**: {describe()}." in readme


def test_a_bad_command_line_exits_with_the_usage_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["nightly", "--date", "yesterday"])
    assert exit_info.value.code == ExitCode.USAGE
    assert "--date" in capsys.readouterr().err
