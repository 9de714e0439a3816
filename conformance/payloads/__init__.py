"""Payload validation: the JSON Schemas in ``schemas/`` applied to streaming event payloads.

``PayloadValidator.default().check_event(event, payload, stream=..., server_version=...)``
returns ``SchemaFinding``s (fail / warn / info). See ``validator.py`` for the two-path design
and ``schemas/README.md`` for the schema conventions.

The names below are resolved on first access (PEP 562), so importing a light submodule such as
``conformance.payloads.events`` never imports the validator or a schema library.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.payloads.events import (
        ENTITY_SCHEMAS,
        EVENT_SCHEMAS,
        NO_PAYLOAD,
        STRING_PAYLOAD_EVENTS,
    )
    from conformance.payloads.findings import SchemaFinding, Severity
    from conformance.payloads.loader import load_schemas, schema_dir
    from conformance.payloads.validator import PayloadValidator

_HOMES = {
    "ENTITY_SCHEMAS": "events",
    "EVENT_SCHEMAS": "events",
    "NO_PAYLOAD": "events",
    "STRING_PAYLOAD_EVENTS": "events",
    "PayloadValidator": "validator",
    "SchemaFinding": "findings",
    "Severity": "findings",
    "load_schemas": "loader",
    "schema_dir": "loader",
}

__all__ = [
    "ENTITY_SCHEMAS",
    "EVENT_SCHEMAS",
    "NO_PAYLOAD",
    "STRING_PAYLOAD_EVENTS",
    "PayloadValidator",
    "SchemaFinding",
    "Severity",
    "load_schemas",
    "schema_dir",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
