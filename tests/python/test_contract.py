"""The export contract exists once, in `vars: export_contract` of dbt_project.yml. The dbt
macro `export_contract` (what staging enforces) must return exactly that block; the Python
contract, the JSON Schemas derived from it and docs/export-contract.md must agree with it on
every entity's key, fields, types, required fields, enums and drift fields; the dbt sources
and the staging models must cover exactly its entity list; generated lines must validate."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from chatbatch_dev.generator import generate
from jsonschema import Draft202012Validator

from chatbatch.contract import ENTITIES, VERSION, contract, json_schema
from chatbatch.core.paths import PROJECT_DIR

DOCS = PROJECT_DIR / "docs" / "export-contract.md"
# how docs/export-contract.md names the contract's types (an enum field is "enum")
DOC_TYPES = {
    "text": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "json": "object",
    "text_array": "array of string",
}


def _project_vars() -> dict[str, Any]:
    return yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


class _Returned(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


class _CompilerError(Exception):
    pass


def _dbt_return(value: Any) -> None:
    raise _Returned(value)


def _raise_compiler_error(message: str) -> None:
    raise _CompilerError(message)


def enforced_contract(entity: str) -> dict[str, Any]:
    """Evaluate the dbt macro with plain Jinja (dbt's `return` is an early exit), with
    `var` reading dbt_project.yml's vars."""
    source = (PROJECT_DIR / "macros" / "staging" / "export_contract.sql").read_text()
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    context = {
        "return": _dbt_return,
        "var": _project_vars().__getitem__,
        "exceptions": {"raise_compiler_error": _raise_compiler_error},
    }
    module = env.from_string(source).make_module(context)
    try:
        module.export_contract(entity)
    except _Returned as returned:
        return returned.value
    raise AssertionError("export_contract returned nothing")


@pytest.mark.parametrize("entity", ENTITIES)
def test_macro_returns_the_files_contract(entity: str) -> None:
    assert enforced_contract(entity) == _project_vars()["export_contract"][entity]


def test_macro_rejects_an_unknown_entity() -> None:
    with pytest.raises(_CompilerError, match="unknown entity 'tickets'"):
        enforced_contract("tickets")


def test_python_contract_reads_the_file() -> None:
    raw = _project_vars()
    assert tuple(raw["export_contract"]) == ENTITIES
    assert raw["export_contract_version"] == VERSION
    for entity in ENTITIES:
        spec, typed = raw["export_contract"][entity], contract(entity)
        assert list(typed.key) == spec["key"]
        assert [f.name for f in typed.fields] == [f["name"] for f in spec["fields"]]
        assert [(c.reason, c.fails_when) for c in typed.checks] == [
            (c["reason"], c["fails_when"]) for c in spec["checks"]
        ]
    with pytest.raises(KeyError):
        contract("tickets")


def _schema_fields(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Flatten a JSON Schema's properties to dotted names, one level of nesting."""
    fields: dict[str, dict[str, Any]] = {}
    for name, spec in schema["properties"].items():
        if "properties" in spec:
            for child, child_spec in spec["properties"].items():
                fields[f"{name}.{child}"] = child_spec
        else:
            fields[name] = spec
    return fields


@pytest.mark.parametrize("entity", ENTITIES)
def test_macro_and_json_schema_agree(entity: str) -> None:
    schema = json_schema(entity)
    Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is True
    contract_ = enforced_contract(entity)
    schema_fields = _schema_fields(schema)
    enforced = {field["name"]: field for field in contract_["fields"]}
    assert set(enforced) == set(schema_fields), entity
    assert {n for n, f in enforced.items() if f.get("required")} == set(schema["required"])
    for name, field in enforced.items():
        if field.get("enum"):
            assert set(field["enum"]) == set(schema_fields[name]["enum"]) - {None}, name
        assert schema_fields[name].get("x-not-staged", False) is (field.get("staged") is False), name


@dataclass(frozen=True)
class DocField:
    name: str
    type: str
    required: bool
    notes: str


def _docs_entities() -> dict[str, tuple[tuple[str, ...], list[DocField]]]:
    """Per `### <entity> — key ...` section of the docs: the key and its field table."""
    text = DOCS.read_text()
    entities_part = text[text.index("## Entities") : text.index("## Dirty data")]
    out: dict[str, tuple[tuple[str, ...], list[DocField]]] = {}
    for section in re.split(r"^### ", entities_part, flags=re.M)[1:]:
        heading, _, body = section.partition("\n")
        match = re.fullmatch(r"(\w+) — key (.+)", heading.strip())
        assert match, heading
        key = tuple(re.findall(r"`([^`]+)`", match.group(2)))
        fields: list[DocField] = []
        in_table = False
        for line in body.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
            if cells == ["field", "type", "notes"]:
                in_table = True
            elif not cells:
                in_table = False
            elif in_table and not set(cells[0]) <= {"-"}:
                name, ftype, notes = cells
                fields.append(DocField(name.rstrip("*"), ftype, name.endswith("*"), notes))
        out[match.group(1)] = (key, fields)
    return out


def test_docs_tables_agree_with_the_file() -> None:
    docs = _docs_entities()
    assert list(docs) == list(ENTITIES)
    for entity in ENTITIES:
        spec = contract(entity)
        key, doc_fields = docs[entity]
        assert key == spec.key, entity
        assert [f.name for f in doc_fields] == [f.name for f in spec.fields], entity
        for doc, field in zip(doc_fields, spec.fields, strict=True):
            where = f"{entity}.{field.name}"
            assert doc.required is field.required, where
            assert doc.type == ("enum" if field.enum else DOC_TYPES[field.type]), where
            if field.enum:
                assert tuple(re.findall(r"`([^`]+)`", doc.notes)) == field.enum, where
            assert ("**drift field**" in doc.notes) is (not field.staged), where


def test_docs_point_at_the_one_definition() -> None:
    text = DOCS.read_text()
    assert "vars: export_contract" in text
    assert "python -m chatbatch.contract" in text
    assert ".schema.json](" not in text  # no links to committed schema files


def test_sources_and_staging_models_cover_the_entities() -> None:
    chatbot = PROJECT_DIR / "models" / "staging" / "chatbot"
    sources = yaml.safe_load((chatbot / "_chatbot__sources.yml").read_text())["sources"]
    (source,) = (s for s in sources if s["name"] == "chatbot")
    assert [t["name"] for t in source["tables"]] == list(ENTITIES)
    base = sorted(
        p.stem.removeprefix("base_chatbot__") for p in (chatbot / "base").glob("base_chatbot__*.sql")
    )
    stg = sorted(p.stem.removeprefix("stg_chatbot__") for p in chatbot.glob("stg_chatbot__*.sql"))
    assert base == sorted(ENTITIES)
    assert stg == sorted(ENTITIES)


def _lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    return (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode("utf-8").splitlines()


def test_generated_lines_validate_against_json_schemas(tmp_path: Path) -> None:
    # two days: drift fields appear from the second day
    generate(tmp_path, date(2026, 3, 1), 2, 20, seed=5)
    drift_seen: set[str] = set()
    for entity in ENTITIES:
        validator = Draft202012Validator(json_schema(entity))
        paths = sorted((tmp_path / entity).rglob("*.jsonl*"))
        assert paths, entity
        for path in paths:
            for line in _lines(path):
                record = json.loads(line)
                errors = list(validator.iter_errors(record))
                assert not errors, (entity, record, errors[0].message)
                drift_seen |= {f"{entity}.{name}" for name in contract(entity).drift_fields if name in record}
    expected = {f"{e}.{name}" for e in ENTITIES for name in contract(e).drift_fields}
    assert drift_seen == expected
    invalid = {"channel": "telegram", "conversation_id": "cv_20260301_0000001"}
    assert not Draft202012Validator(json_schema("conversations")).is_valid(invalid)
