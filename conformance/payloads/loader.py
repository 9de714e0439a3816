"""Find the schema files, load them, and build the reference registries both validators use.

The schemas live once, in ``conformance/schemas/`` (the checkout's top-level ``schemas`` is a
symlink to it): package data, so a checkout, an editable install and an installed wheel all find
them the same way, next to this package. No ``$ref`` is ever fetched over the network: every
schema is registered under its ``$id`` and the jsonschema-rs registry refuses retrieval.

The *strict* variant is derived here, in memory: every object schema gets
``additionalProperties: false`` (unless marked ``x-open``) and every ``x-known-values``
annotation becomes an ``enum``. The published schemas stay open; the strict variant only tells
the validator which keys and values are undocumented, so it can report them as info/warn.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from referencing import Registry

SCHEMA_BASE = "https://mastodon-streaming-conformance.invalid/schemas/"
SCHEMA_SUFFIX = ".schema.json"
# schemas in the same directory that judge something other than payloads.
NOT_PAYLOAD_SCHEMAS = frozenset(
    {"transcript.schema.json", "load.schema.json", "run-report.schema.json"}
)

KNOWN_VALUES = "x-known-values"
OPEN_OBJECT = "x-open"
ADDED = "x-added"
# keywords whose subschemas are conditions, not constraints: never close those.
_CONDITION_KEYWORDS = frozenset({"if", "not"})


def schema_dir() -> Path:
    """The directory holding the schemas: ``conformance/schemas``, the package's own data."""
    directory = Path(__file__).resolve().parents[1] / "schemas"
    if not (directory / f"status{SCHEMA_SUFFIX}").is_file():
        raise FileNotFoundError(f"payload schemas not found in {directory}: a broken install")
    return directory


@cache
def load_schemas(directory: Path | None = None) -> Mapping[str, dict[str, Any]]:
    """File name -> parsed schema, for every payload schema in the directory."""
    directory = directory or schema_dir()
    schemas: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob(f"*{SCHEMA_SUFFIX}")):
        if path.name in NOT_PAYLOAD_SCHEMAS:
            continue
        schema = json.loads(path.read_text(encoding="utf-8"))
        expected_id = SCHEMA_BASE + path.name
        if schema.get("$id") != expected_id:
            raise ValueError(f"{path.name}: $id must be {expected_id!r}, got {schema.get('$id')!r}")
        schemas[path.name] = schema
    return schemas


def schema_uri(file_name: str) -> str:
    return SCHEMA_BASE + file_name


def _close(node: Any, *, in_condition: bool = False) -> Any:
    if isinstance(node, list):
        return [_close(item, in_condition=in_condition) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _CONDITION_KEYWORDS:
            out[key] = _close(value, in_condition=True)
        elif key in ("properties", "$defs", "patternProperties"):
            out[key] = {name: _close(sub, in_condition=in_condition) for name, sub in value.items()}
        else:
            out[key] = _close(value, in_condition=in_condition)
    if in_condition:
        return out
    if "properties" in out and not out.get(OPEN_OBJECT) and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if KNOWN_VALUES in out:
        values: list[Any] = list(out[KNOWN_VALUES])
        types = out.get("type")
        if isinstance(types, list) and "null" in types:
            values.append(None)
        out["enum"] = values
    return out


def strict_variant(schema: dict[str, Any]) -> dict[str, Any]:
    """The closed twin of an open schema (same ``$id``; lives in its own registry)."""
    return _close(copy.deepcopy(schema))


def build_registry(schemas: Mapping[str, dict[str, Any]]) -> Registry:
    """A ``referencing`` registry of the given schemas, keyed by their ``$id``."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = [
        (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012))
        for schema in schemas.values()
    ]
    return Registry().with_resources(resources).crawl()
