"""The landing export contract, typed: read from its one definition in ``dbt_project.yml``.

``vars: export_contract`` in the dbt project is the contract (the staging macro
``export_contract`` reads the same block); docs/export-contract.md explains it. This module
gives the Python side: ``ENTITIES`` (the one entity list, in the file's order), ``contract(entity)``
(key, fields, checks as dataclasses) and ``json_schema(entity)``, the JSON Schema (draft
2020-12) producers validate against (``python -m chatbatch.contract [ENTITY]`` prints it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from chatbatch.contract.project import project_vars
from chatbatch.core.paths import PROJECT_DIR

FieldType = Literal["text", "integer", "number", "boolean", "timestamp", "json", "text_array"]
FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# ISO-8601 with seconds (optionally fractions) and Z or a numeric offset (docs: common rules)
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
_JSON_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "timestamp": {"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN},
    "json": {"type": "object"},
    "text_array": {"type": "array", "items": {"type": "string"}},
}


class ContractError(ValueError):
    """The contract block in dbt_project.yml is missing or malformed."""


@dataclass(frozen=True)
class Field:
    """One field of an entity; ``name`` is dotted for a field of a nested object."""

    name: str
    type: FieldType
    required: bool = False
    enum: tuple[str, ...] = ()
    staged: bool = True  # False: a drift field, typed leniently by staging, never quarantines
    description: str = ""

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))

    @property
    def column(self) -> str:
        """The staging column name (nested names joined with ``_``)."""
        return self.name.replace(".", "_")


@dataclass(frozen=True)
class Check:
    """An extra rule on the typed columns: a record for which ``fails_when`` holds is
    quarantined with ``reason``."""

    reason: str
    fails_when: str


@dataclass(frozen=True)
class EntityContract:
    entity: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]
    checks: tuple[Check, ...]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.entity} has no field {name!r}")

    def enum(self, name: str) -> tuple[str, ...]:
        """The accepted values of an enum field, in the contract's order."""
        values = self.field(name).enum
        if not values:
            raise KeyError(f"{self.entity}.{name} is not an enum")
        return values

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def drift_fields(self) -> tuple[str, ...]:
        """Top-level names of the drift fields (accepted, typed leniently, never judged)."""
        return tuple(dict.fromkeys(f.path[0] for f in self.fields if not f.staged))


@dataclass(frozen=True)
class Contract:
    version: str
    entities: dict[str, EntityContract]


def _field(entity: str, raw: dict[str, Any]) -> Field:
    known = {"name", "type", "required", "enum", "staged", "description"}
    if not isinstance(raw, dict) or "name" not in raw or set(raw) - known:
        raise ContractError(f"export_contract.{entity}: bad field {raw!r} (keys: {sorted(known)})")
    if raw.get("type") not in FIELD_TYPES:
        raise ContractError(f"export_contract.{entity}.{raw['name']}: type must be one of {FIELD_TYPES}")
    if len(raw["name"].split(".")) > 2:
        raise ContractError(f"export_contract.{entity}.{raw['name']}: one level of nesting at most")
    return Field(
        name=raw["name"],
        type=raw["type"],
        required=bool(raw.get("required", False)),
        enum=tuple(str(v) for v in raw.get("enum") or ()),
        staged=bool(raw.get("staged", True)),
        description=str(raw.get("description", "")),
    )


def load(project_dir: Path = PROJECT_DIR) -> Contract:
    """Read the contract from ``<project_dir>/dbt_project.yml``."""
    path = project_dir / "dbt_project.yml"
    variables = project_vars(project_dir)
    block = variables.get("export_contract")
    if not isinstance(block, dict) or not block:
        raise ContractError(f"{path}: vars.export_contract is missing")
    entities: dict[str, EntityContract] = {}
    for entity, spec in block.items():
        fields = tuple(_field(entity, raw) for raw in spec.get("fields") or ())
        names = {f.name for f in fields}
        key = tuple(spec.get("key") or ())
        if not key or not set(key) <= names:
            raise ContractError(f"export_contract.{entity}: key {key} must name fields")
        checks = tuple(Check(str(c["reason"]), str(c["fails_when"])) for c in spec.get("checks") or ())
        entities[entity] = EntityContract(entity, key, fields, checks)
    return Contract(version=str(variables.get("export_contract_version", "v1")), entities=entities)


CONTRACT = load()
VERSION = CONTRACT.version
ENTITIES: tuple[str, ...] = tuple(CONTRACT.entities)


def contract(entity: str) -> EntityContract:
    """The contract of ``entity`` (raises ``KeyError`` for unknown entities)."""
    if entity not in CONTRACT.entities:
        raise KeyError(f"unknown entity {entity!r}; expected one of {ENTITIES}")
    return CONTRACT.entities[entity]


def _property(field: Field) -> dict[str, Any]:
    spec: dict[str, Any] = dict(_JSON_TYPES[field.type])
    if field.enum:
        spec["enum"] = list(field.enum)
    if not field.required:
        spec["type"] = [spec["type"], "null"]
        if field.enum:
            spec["enum"].append(None)
    if field.description:
        spec["description"] = field.description
    if not field.staged:
        spec["x-not-staged"] = True
    return spec


def json_schema(entity: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one landing line of ``entity``: types, required
    fields, enums, nested objects for dotted fields; unknown fields allowed."""
    spec = contract(entity)
    properties: dict[str, Any] = {}
    nested: dict[str, list[Field]] = {}
    for field in spec.fields:
        if len(field.path) == 1:
            properties[field.name] = _property(field)
            continue
        parent, child = field.path
        if parent not in properties:
            properties[parent] = {"type": "object", "properties": {}}
            nested[parent] = []
        properties[parent]["properties"][child] = _property(field)
        nested[parent].append(field)
    top_required = [f.name for f in spec.fields if f.required and len(f.path) == 1]
    for parent, children in nested.items():
        obj = properties[parent]
        if required := [f.path[1] for f in children if f.required]:
            obj["required"] = required
            top_required.append(parent)
        else:
            obj["type"] = ["object", "null"]
        if not any(f.staged for f in children):
            obj["x-not-staged"] = True
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"https://chatbot-analytics.example.com/contract/{VERSION}/{entity}.schema.json",
        "title": entity,
        "description": (
            f"Export contract {VERSION}: one JSON object per line in "
            f"<landing>/{entity}/export_date=YYYY-MM-DD/*.jsonl[.gz]. Unknown fields are allowed. "
            "Generated from vars.export_contract in dbt_project.yml (docs/export-contract.md)."
        ),
        "type": "object",
        "properties": properties,
        "required": top_required,
        "additionalProperties": True,
    }
