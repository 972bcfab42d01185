"""The export contract is stated three times: the JSON Schemas (for producers), the dbt
macro `export_contract` (what staging enforces) and docs/export-contract.md. They must
agree on every entity's fields, required fields and enums."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
import pytest

from chatbatch.contract import ENTITIES, schema_path
from chatbatch.core.paths import PROJECT_DIR


class _Returned(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


def _dbt_return(value: Any) -> None:
    raise _Returned(value)


def enforced_contract(entity: str) -> dict[str, Any]:
    """Evaluate the dbt macro with plain Jinja (dbt's `return` is an early exit)."""
    source = (PROJECT_DIR / "macros" / "staging" / "export_contract.sql").read_text()
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    module = env.from_string(source).make_module({"return": _dbt_return, "exceptions": None})
    try:
        module.export_contract(entity)
    except _Returned as returned:
        return returned.value
    raise AssertionError("export_contract returned nothing")


def _schema_fields(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Flatten a JSON Schema's properties to dotted names, one level of nesting."""
    fields: dict[str, dict[str, Any]] = {}
    for name, spec in schema["properties"].items():
        if spec.get("x-not-staged"):
            continue  # drift fields: accepted, kept in raw, not part of contract v1
        types = spec.get("type", [])
        types = [types] if isinstance(types, str) else types
        if "object" in types and "properties" in spec and name not in ("attributes", "payload"):
            for child, child_spec in spec["properties"].items():
                fields[f"{name}.{child}"] = child_spec
        else:
            fields[name] = spec
    return fields


@pytest.mark.parametrize("entity", ENTITIES)
def test_macro_and_json_schema_agree(entity: str) -> None:
    schema = json.loads(schema_path(entity).read_text())
    contract = enforced_contract(entity)
    schema_fields = _schema_fields(schema)
    enforced = {field["name"]: field for field in contract["fields"]}
    assert set(enforced) == set(schema_fields), entity
    assert {n for n, f in enforced.items() if f.get("required")} == set(schema["required"])
    for name, field in enforced.items():
        if field.get("enum"):
            assert set(field["enum"]) == set(schema_fields[name]["enum"]) - {None}, name


def test_docs_name_every_entity() -> None:
    text = (PROJECT_DIR / "docs" / "export-contract.md").read_text()
    for entity in ENTITIES:
        assert entity in text
    assert isinstance(Path(schema_path("messages")), Path)
