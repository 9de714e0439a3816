"""Judge streaming payloads against the schemas: a compiled fast path, a detailed slow path.

Every payload first goes through jsonschema-rs with the *strict* variant of its schema (closed
objects, known enum values). Real payloads almost always pass it, and then there is nothing to
report. Only when it fails does the validator find out why, with ``jsonschema``, and
``classify.py`` sorts the errors into fail / warn / info findings.

Nothing is compiled up front: ``compiled.py`` builds each schema's validators the first time a
payload of that schema is judged (``PayloadValidator.default()`` is shared, so that happens
once per process). The module map:

* ``findings.py``: ``SchemaFinding`` and its renderings;
* ``formats.py``: the four string formats, as explicit checkers;
* ``compiled.py``: registries and the lazily compiled validators;
* ``classify.py``: jsonschema errors -> findings;
* ``shape.py``: wrong JSON types (double encoding, numeric ids) and stream-context notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from conformance.payloads.classify import hard_finding, hard_leaves, soft_finding, soft_leaves
from conformance.payloads.compiled import SchemaSet
from conformance.payloads.events import (
    ENTITY_SCHEMAS,
    EVENT_SCHEMAS,
    NO_PAYLOAD,
    NO_PAYLOAD_EVENTS,
    STATUS_EVENTS,
)
from conformance.payloads.findings import SchemaFinding, Severity, dedupe, json_type, show
from conformance.payloads.loader import load_schemas
from conformance.payloads.shape import shape_findings, stream_context_findings

__all__ = ["PayloadValidator", "SchemaFinding", "Severity"]


class PayloadValidator:
    """Validates event payloads and entities against the schemas in ``schemas/``."""

    def __init__(self, schemas: Mapping[str, dict[str, Any]]) -> None:
        self._set = SchemaSet(schemas)

    @classmethod
    def default(cls) -> PayloadValidator:
        """The shared validator over the shipped schemas (each schema compiled on first use)."""
        return _default_validator()

    @property
    def schema_names(self) -> list[str]:
        return sorted(self._set.schemas)

    # -- public API -----------------------------------------------------------------------

    def check_event(
        self,
        event: str,
        payload: Any,
        *,
        stream: str | None = None,
        server_version: str | None = None,
    ) -> list[SchemaFinding]:
        """Judge one event's payload (decoded JSON; bare string for id-like events).

        Pass ``NO_PAYLOAD`` when the event carried no data at all.
        """
        schema_file = EVENT_SCHEMAS.get(event)
        if schema_file is None:
            return [
                SchemaFinding(
                    "info",
                    "",
                    "a documented event",
                    f"event {event!r}",
                    f"no schema for event {event!r}: payload not judged",
                )
            ]
        if event in NO_PAYLOAD_EVENTS:
            if payload is NO_PAYLOAD or payload is None:
                return []
            return [
                SchemaFinding(
                    "fail",
                    "",
                    "no payload",
                    f"{json_type(payload)}: {show(payload)}",
                    f"{event} carries no payload, but one was sent",
                )
            ]
        if payload is NO_PAYLOAD:
            return [
                SchemaFinding(
                    "fail",
                    "",
                    "a payload",
                    "no payload",
                    f"{event} must carry a payload, none was sent",
                )
            ]
        shape = shape_findings(event, payload)
        if shape:
            return shape
        findings = self._validate(schema_file, payload, server_version)
        if event in STATUS_EVENTS and isinstance(payload, dict):
            findings.extend(stream_context_findings(payload, stream))
        return findings

    def check_entity(
        self,
        entity: str,
        obj: Any,
        *,
        stream: str | None = None,
        server_version: str | None = None,
    ) -> list[SchemaFinding]:
        """Judge one entity (``"Status"``, ``"Account"``... or a schema file name)."""
        schemas = self._set.schemas
        schema_file = ENTITY_SCHEMAS.get(entity) or (
            entity if entity in schemas else f"{entity}.schema.json"
        )
        if schema_file not in schemas:
            raise KeyError(f"no schema for entity {entity!r}")
        findings = self._validate(schema_file, obj, server_version)
        if schema_file == ENTITY_SCHEMAS["Status"] and isinstance(obj, dict):
            findings.extend(stream_context_findings(obj, stream))
        return findings

    def is_valid_fast(self, schema_file: str, instance: Any) -> bool:
        """The compiled open-schema verdict alone (benchmarks, agreement tests)."""
        return bool(self._set.target(schema_file).fast_open.is_valid(instance))

    def is_valid_detailed(self, schema_file: str, instance: Any) -> bool:
        """The ``jsonschema`` open-schema verdict alone (benchmarks, agreement tests)."""
        return bool(self._set.target(schema_file).detail_open.is_valid(instance))

    def is_documented_fast(self, schema_file: str, instance: Any) -> bool:
        """The compiled strict-variant verdict (no undocumented keys or enum values)."""
        return bool(self._set.target(schema_file).fast_strict.is_valid(instance))

    def is_documented_detailed(self, schema_file: str, instance: Any) -> bool:
        return bool(self._set.target(schema_file).detail_strict.is_valid(instance))

    # -- internals ------------------------------------------------------------------------

    def _validate(
        self, schema_file: str, instance: Any, server_version: str | None
    ) -> list[SchemaFinding]:
        target = self._set.target(schema_file)
        if target.fast_strict.is_valid(instance):
            return []
        findings: list[SchemaFinding] = []
        if not target.fast_open.is_valid(instance):
            for error in target.detail_open.iter_errors(instance):
                for leaf in hard_leaves(error):
                    findings.extend(hard_finding(target.title, leaf, server_version))
        for error in target.detail_strict.iter_errors(instance):
            for leaf in soft_leaves(error) or ():
                findings.extend(soft_finding(leaf))
        return dedupe(findings)


@cache
def _default_validator() -> PayloadValidator:
    return PayloadValidator(load_schemas())
