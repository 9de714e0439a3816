"""Judge streaming payloads against the schemas: a compiled fast path, a detailed slow path.

Every payload first goes through jsonschema-rs with the *strict* variant of its schema (closed
objects, known enum values). Real payloads almost always pass it, and then there is nothing to
report. Only when it fails does the validator find out why, with ``jsonschema``:

* errors against the *open* schema (the published one) are ``fail`` findings, except a missing
  key the schema marks ``x-added`` with a version newer than the server's, which is ``warn``;
* errors that only the strict variant raises are undocumented keys (``info``) and unknown enum
  values (``warn``): servers add extensions, so these never fail.

Validators are compiled once per schema (``PayloadValidator.default()`` is cached).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal
from urllib.parse import quote

import jsonschema_rs
import rfc3986_validator
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry

from conformance.payloads.events import (
    ANONYMOUS_STREAM_PREFIXES,
    ENTITY_SCHEMAS,
    EVENT_SCHEMAS,
    NO_PAYLOAD,
    NO_PAYLOAD_EVENTS,
    OBJECT_PAYLOAD_EVENTS,
    STATUS_EVENTS,
    STRING_PAYLOAD_EVENTS,
    VIEWER_KEYS,
    VIEWER_STREAM_PREFIXES,
)
from conformance.payloads.loader import (
    ADDED,
    build_registry,
    load_schemas,
    schema_uri,
    strict_variant,
)
from conformance.payloads.versions import added_after

Severity = Literal["fail", "warn", "info"]

_REQUIRED_FORMATS = ("date-time", "date", "uri", "iri")
_SOFT_KEYWORDS = frozenset({"additionalProperties", "unevaluatedProperties", "enum"})
_BRANCH_KEYWORDS = frozenset({"anyOf", "oneOf"})


@dataclass(frozen=True, slots=True)
class SchemaFinding:
    """One thing the schemas say about a payload.

    ``pointer`` is a JSON pointer into the payload ("" is the payload itself); ``expected`` and
    ``observed`` are short human-readable strings for reports.
    """

    severity: Severity
    pointer: str
    expected: str
    observed: str
    message: str


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _show(value: Any, limit: int = 80) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _where(pointer: str) -> str:
    return pointer or "(payload)"


class _Target:
    """The four compiled validators of one schema: fast/detailed x open/strict."""

    __slots__ = ("detail_open", "detail_strict", "fast_open", "fast_strict", "title")

    def __init__(
        self,
        uri: str,
        title: str,
        open_registries: tuple[Registry, jsonschema_rs.Registry],
        strict_registries: tuple[Registry, jsonschema_rs.Registry],
        checker: FormatChecker,
    ) -> None:
        root = {"$ref": uri}
        self.title = title
        self.fast_open = _fast(root, open_registries[1])
        self.fast_strict = _fast(root, strict_registries[1])
        self.detail_open = _detail(root, open_registries[0], checker)
        self.detail_strict = _detail(root, strict_registries[0], checker)


def _fast(schema: dict[str, Any], registry: jsonschema_rs.Registry) -> Any:
    return jsonschema_rs.Draft202012Validator(
        schema,
        registry=registry,
        validate_formats=True,
        ignore_unknown_formats=False,
        offline=True,
    )


def _iri_as_uri(instance: object) -> bool:
    """RFC 3987 3.1: an IRI is valid when its UTF-8 percent-encoded URI form is.

    jsonschema's own ``iri`` checker (a full grammar parser) costs ~20 ms per string, which
    would make the detailed path useless on Status payloads; this mapping is the RFC's own.
    """
    if not isinstance(instance, str):
        return True
    as_uri = "".join(char if char < "\x80" else quote(char, safe="") for char in instance)
    return bool(rfc3986_validator.validate_rfc3986(as_uri, rule="URI"))


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    for name in _REQUIRED_FORMATS:
        checker.checkers[name] = Draft202012Validator.FORMAT_CHECKER.checkers[name]
    checker.checkers["iri"] = (_iri_as_uri, ())
    return checker


def _detail(
    schema: dict[str, Any], registry: Registry, checker: FormatChecker
) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=registry, format_checker=checker)


def _refuse_retrieval(uri: str) -> Any:
    raise LookupError(f"schema {uri} is not in the local registry (network fetches are refused)")


def _rs_registry(schemas: Mapping[str, dict[str, Any]]) -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry(
        [(schema["$id"], schema) for schema in schemas.values()], retriever=_refuse_retrieval
    )


def _check_format_support() -> None:
    # jsonschema silently skips a format whose optional checker package is missing; refuse to
    # run half-blind instead.
    missing = [
        fmt for fmt in _REQUIRED_FORMATS if fmt not in Draft202012Validator.FORMAT_CHECKER.checkers
    ]
    if missing:
        raise RuntimeError(
            f"jsonschema cannot check formats {missing}: install jsonschema[format-nongpl]"
        )


class PayloadValidator:
    """Validates event payloads and entities against the schemas in ``schemas/``."""

    def __init__(self, schemas: Mapping[str, dict[str, Any]]) -> None:
        _check_format_support()
        checker = _format_checker()
        self._schemas = dict(schemas)
        strict = {name: strict_variant(schema) for name, schema in schemas.items()}
        open_regs = (build_registry(schemas), _rs_registry(schemas))
        strict_regs = (build_registry(strict), _rs_registry(strict))
        self._targets: dict[str, _Target] = {}
        for name, schema in schemas.items():
            self._targets[name] = _Target(
                schema_uri(name), _title(schema, schemas, name), open_regs, strict_regs, checker
            )

    @classmethod
    def default(cls) -> PayloadValidator:
        """The shared validator over the shipped schemas, compiled on first use."""
        return _default_validator()

    @property
    def schema_names(self) -> list[str]:
        return sorted(self._schemas)

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
                    f"{_json_type(payload)}: {_show(payload)}",
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
        shape = self._shape_findings(event, payload)
        if shape:
            return shape
        findings = self._validate(schema_file, payload, server_version)
        if event in STATUS_EVENTS and isinstance(payload, dict):
            findings.extend(_stream_context_findings(payload, stream))
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
        schema_file = ENTITY_SCHEMAS.get(entity) or (
            entity if entity in self._schemas else f"{entity}.schema.json"
        )
        if schema_file not in self._schemas:
            raise KeyError(f"no schema for entity {entity!r}")
        findings = self._validate(schema_file, obj, server_version)
        if schema_file == ENTITY_SCHEMAS["Status"] and isinstance(obj, dict):
            findings.extend(_stream_context_findings(obj, stream))
        return findings

    def is_valid_fast(self, schema_file: str, instance: Any) -> bool:
        """The compiled open-schema verdict alone (benchmarks, agreement tests)."""
        return bool(self._targets[schema_file].fast_open.is_valid(instance))

    def is_valid_detailed(self, schema_file: str, instance: Any) -> bool:
        """The ``jsonschema`` open-schema verdict alone (benchmarks, agreement tests)."""
        return bool(self._targets[schema_file].detail_open.is_valid(instance))

    def is_documented_fast(self, schema_file: str, instance: Any) -> bool:
        """The compiled strict-variant verdict (no undocumented keys or enum values)."""
        return bool(self._targets[schema_file].fast_strict.is_valid(instance))

    def is_documented_detailed(self, schema_file: str, instance: Any) -> bool:
        return bool(self._targets[schema_file].detail_strict.is_valid(instance))

    # -- internals ------------------------------------------------------------------------

    def _shape_findings(self, event: str, payload: Any) -> list[SchemaFinding]:
        """Clear messages for a payload of the wrong JSON type (double encoding, numeric ids)."""
        if event in STRING_PAYLOAD_EVENTS:
            if isinstance(payload, str):
                return []
            hint = (
                " (a numeric id loses precision beyond 2^53)"
                if isinstance(payload, int | float) and not isinstance(payload, bool)
                else ""
            )
            return [
                SchemaFinding(
                    "fail",
                    "",
                    "string",
                    f"{_json_type(payload)}: {_show(payload)}",
                    f"{event} payload must be a bare string id, got {_json_type(payload)}{hint}",
                )
            ]
        entity = OBJECT_PAYLOAD_EVENTS.get(event)
        if entity is None or isinstance(payload, dict):
            return []
        hint = ""
        if isinstance(payload, str):
            try:
                inner = json.loads(payload)
            except ValueError:
                hint = " (text that is not JSON)"
            else:
                hint = f" (double-encoded: the string holds JSON {_json_type(inner)})"
        return [
            SchemaFinding(
                "fail",
                "",
                f"object ({entity})",
                f"{_json_type(payload)}: {_show(payload)}",
                f"{event} payload must be a JSON object ({entity}), got "
                f"{_json_type(payload)}{hint}",
            )
        ]

    def _validate(
        self, schema_file: str, instance: Any, server_version: str | None
    ) -> list[SchemaFinding]:
        target = self._targets[schema_file]
        if target.fast_strict.is_valid(instance):
            return []
        findings: list[SchemaFinding] = []
        if not target.fast_open.is_valid(instance):
            for error in target.detail_open.iter_errors(instance):
                for leaf in _hard_leaves(error):
                    findings.extend(_hard_finding(target.title, leaf, server_version))
        for error in target.detail_strict.iter_errors(instance):
            for leaf in _soft_leaves(error) or ():
                findings.extend(_soft_finding(leaf))
        return _dedupe(findings)


def _title(schema: dict[str, Any], schemas: Mapping[str, dict[str, Any]], name: str) -> str:
    """The entity name used in messages; an event schema takes its referenced entity's."""
    referenced = schemas.get(str(schema.get("$ref", "")))
    if referenced is not None:
        return _title(referenced, schemas, name)
    return str(schema.get("x-entity") or schema.get("title") or name)


@cache
def _default_validator() -> PayloadValidator:
    return PayloadValidator(load_schemas())


# -- error classification ----------------------------------------------------------------------


def _branches(error: ValidationError) -> dict[int, list[ValidationError]]:
    grouped: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        index = sub.relative_schema_path[0] if sub.relative_schema_path else 0
        grouped.setdefault(int(index), []).append(sub)
    return grouped


def _soft_leaves(error: ValidationError) -> list[ValidationError] | None:
    """The undocumented-key / unknown-value errors that alone explain ``error``, else None."""
    if error.validator in _SOFT_KEYWORDS:
        return [error]
    if error.validator in _BRANCH_KEYWORDS:
        for _, errors in sorted(_branches(error).items()):
            leaves: list[ValidationError] = []
            for sub in errors:
                found = _soft_leaves(sub)
                if found is None:
                    break
                leaves.extend(found)
            else:
                return leaves
    return None


def _is_wrong_branch(error: ValidationError, parent_depth: int) -> bool:
    return error.validator in ("type", "const", "enum") and len(error.absolute_path) == parent_depth


def _hard_leaves(error: ValidationError) -> list[ValidationError]:
    """Descend through anyOf/oneOf into the branch that best fits the instance."""
    if error.validator not in _BRANCH_KEYWORDS:
        return [error]
    depth = len(error.absolute_path)
    candidates = [
        errors
        for _, errors in sorted(_branches(error).items())
        if not any(_is_wrong_branch(sub, depth) for sub in errors)
    ]
    if not candidates:
        return [error]
    best = min(candidates, key=len)
    leaves: list[ValidationError] = []
    for sub in best:
        leaves.extend(_hard_leaves(sub))
    return leaves


def _expected(error: ValidationError) -> str:
    validator = error.validator
    value = error.validator_value
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator == "type":
        return " or ".join(value) if isinstance(value, list) else str(value)
    if validator == "format":
        return f"format {value}"
    if validator in ("anyOf", "oneOf"):
        options = []
        for sub in value:
            if isinstance(sub, dict):
                options.append(str(sub.get("$ref") or sub.get("type") or "schema"))
        return "one of: " + ", ".join(options)
    if validator == "enum":
        return "one of " + ", ".join(_show(item) for item in value)
    if validator == "false":
        return "nothing (forbidden)"
    detail = schema.get("title")
    return f"{validator} {_show(value)}" + (f" ({detail})" if detail else "")


def _hard_finding(
    title: str, error: ValidationError, server_version: str | None
) -> list[SchemaFinding]:
    pointer = _pointer(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        properties = schema.get("properties", {})
        findings = []
        for key in error.validator_value:
            if key in error.instance:
                continue
            key_pointer = f"{pointer}/{key}"
            added = properties.get(key, {}).get(ADDED) if isinstance(properties, dict) else None
            if added and added_after(added, server_version):
                findings.append(
                    SchemaFinding(
                        "warn",
                        key_pointer,
                        f"key {key!r} (added in Mastodon {added})",
                        "absent",
                        f"{title} {_where(pointer)}: missing {key!r}, added in Mastodon {added} "
                        f"(newer than the server's {server_version})",
                    )
                )
            else:
                findings.append(
                    SchemaFinding(
                        "fail",
                        key_pointer,
                        f"key {key!r}",
                        "absent",
                        f"{title} {_where(pointer)}: missing required key {key!r}",
                    )
                )
        return findings
    observed = f"{_json_type(error.instance)}: {_show(error.instance)}"
    return [
        SchemaFinding(
            "fail",
            pointer,
            _expected(error),
            observed,
            f"{title} {_where(pointer)}: {error.message}",
        )
    ]


def _soft_finding(error: ValidationError) -> list[SchemaFinding]:
    pointer = _pointer(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "enum":
        return [
            SchemaFinding(
                "warn",
                pointer,
                _expected(error),
                _show(error.instance),
                f"{_where(pointer)}: undocumented value {_show(error.instance)} "
                "(servers may add values; not a failure)",
            )
        ]
    known = set(schema.get("properties", {}))
    owner = schema.get("title") or "object"
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [
        SchemaFinding(
            "info",
            f"{pointer}/{key}",
            f"a documented key of {owner}",
            f"key {key!r}",
            f"{_where(pointer)}: undocumented key {key!r} (extension; not judged)",
        )
        for key in instance
        if key not in known
    ]


def _dedupe(findings: list[SchemaFinding]) -> list[SchemaFinding]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for finding in findings:
        key = (finding.severity, finding.pointer, finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


# -- stream context ----------------------------------------------------------------------------


def _stream_context_findings(status: dict[str, Any], stream: str | None) -> list[SchemaFinding]:
    """Viewer keys against the stream's rendering (info only: servers legitimately differ)."""
    if not stream:
        return []
    if stream.startswith(ANONYMOUS_STREAM_PREFIXES):
        present = [key for key in VIEWER_KEYS if key in status]
        if present:
            return [
                SchemaFinding(
                    "info",
                    "",
                    "no viewer keys on an anonymous stream",
                    ", ".join(present),
                    f"Status on {stream} carries viewer keys {present}: Mastodon renders "
                    "public and hashtag payloads without a viewer",
                )
            ]
    elif stream.startswith(VIEWER_STREAM_PREFIXES):
        missing = [key for key in VIEWER_KEYS if key not in status]
        if missing:
            return [
                SchemaFinding(
                    "info",
                    "",
                    "viewer keys on a per-user stream",
                    "absent: " + ", ".join(missing),
                    f"Status on {stream} lacks viewer keys {missing}: Mastodon renders "
                    "these payloads for the recipient",
                )
            ]
    return []
