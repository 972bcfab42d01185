"""The runner's shape, kept honest: no import cycles, the nightly path never imports the
development tools nor, until a step needs them, the heavy libraries; modules stay small,
and dbt is used through its public API only; and one rule of the models' SQL that memory
depends on (no unnest in a from clause)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from chatbatch.core.paths import PROJECT_DIR

PACKAGE = PROJECT_DIR / "scripts" / "chatbatch"
MAX_MODULE_LINES = 350
MAX_ORCHESTRATOR_LINES = 150


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of the package (or any top-level package) that ``name`` imports."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, *([base] if base else [])])
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules}
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_no_import_cycles() -> None:
    graph = _graph()
    internal = {m: {t for t in targets if t in graph and t != m} for m, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in internal[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(internal):
        if module not in index:
            visit(module)
    assert cycles == []


def test_the_nightly_path_never_imports_development_tools() -> None:
    graph = _graph()
    seen, todo = set(), ["chatbatch.nightly"]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += [t for t in graph[module] if t in graph]
    assert "chatbatch.output.registry" in seen  # the closure reaches the workloads
    assert {t for m in seen for t in graph[m] if t.split(".")[0] == "chatbatch_dev"} == set()
    # the CLI loads the generator and the bench only inside their own commands
    cli = ast.parse((PACKAGE / "cli.py").read_text(encoding="utf-8"))
    top_level = [n for n in cli.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert not any("chatbatch_dev" in ast.unparse(n) for n in top_level)


# Libraries a night loads only when a step needs them: scikit-learn, SciPy and pandas
# (~1.7 s to import on 2 cores, once the whole cost of a night with nothing new) when a
# model is trained or applied or topics are clustered, matplotlib when a report is drawn.
# The dbt plugin (every dbt process imports it) loads SciPy only when SQL calls a p-value.
LOADED_ON_DEMAND = ("sklearn", "scipy", "pandas", "matplotlib")


def test_starting_a_night_loads_no_heavy_library() -> None:
    code = (
        "import sys, chatbatch.cli, chatbatch.commands, chatbatch.nightly, chatbatch.transform.dbt_plugin; "
        f"print(sorted(m for m in {LOADED_ON_DEMAND!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_modules_stay_small() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in _modules().items()}
    assert sizes["chatbatch.nightly"] <= MAX_ORCHESTRATOR_LINES
    assert {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES} == {}


def test_dbt_is_used_through_its_public_api() -> None:
    private = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        dbt_names = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dbt")
            for alias in node.names
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id in dbt_names
            ):
                private.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert private == []


def test_models_unnest_in_the_select_list_only() -> None:
    """``from t, unnest(t.list) with ordinality`` is a correlated join to DuckDB: it groups
    every row of ``t`` on the correlated columns and hash-joins the unnested rows back (the
    whole OTLP line: 3 GB of hash table and 12 GB spilled for the standard bench's 30-day
    catch-up). A select-list ``unnest(list_with_positions(...))`` streams."""
    lateral = re.compile(
        r"\bfrom\s+[\w.]+(\s+as\s+\w+)?\s*,\s*(lateral\s+)?unnest\s*\(|\bjoin\s+(lateral\s+)?unnest\s*\(",
        re.IGNORECASE,
    )
    comments = re.compile(r"\{#.*?#\}|--[^\n]*", re.DOTALL)
    offenders = [
        str(path.relative_to(PROJECT_DIR))
        for folder in ("models", "macros", "snapshots")
        for path in sorted((PROJECT_DIR / folder).rglob("*.sql"))
        if lateral.search(comments.sub("", path.read_text(encoding="utf-8")))
    ]
    assert offenders == [], f"unnest in a from clause (use a select-list unnest): {offenders}"
