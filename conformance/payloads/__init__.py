"""Payload validation: the JSON Schemas in ``schemas/`` applied to streaming event payloads.

``PayloadValidator.default().check_event(event, payload, stream=..., server_version=...)``
returns ``SchemaFinding``s (fail / warn / info). See ``validator.py`` for the two-path design
and ``schemas/README.md`` for the schema conventions.
"""

from conformance.payloads.events import (
    ENTITY_SCHEMAS,
    EVENT_SCHEMAS,
    NO_PAYLOAD,
    STRING_PAYLOAD_EVENTS,
)
from conformance.payloads.loader import load_schemas, schema_dir
from conformance.payloads.validator import PayloadValidator, SchemaFinding, Severity

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
