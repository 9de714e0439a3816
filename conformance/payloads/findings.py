"""What the payload validator reports: ``SchemaFinding`` and the short renderings it is built from.

Kept apart from the validators so that code which only reads findings (judges, reports) never
imports a schema library.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["fail", "warn", "info"]


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


def json_type(value: Any) -> str:
    """The JSON Schema type name of a decoded value (``bool`` is not an integer here)."""
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


def show(value: Any, limit: int = 80) -> str:
    """A value as compact JSON, cut to ``limit`` characters for a report line."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def pointer(path: Iterable[Any]) -> str:
    """RFC 6901 JSON pointer of a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def where(json_pointer: str) -> str:
    return json_pointer or "(payload)"


def dedupe(findings: list[SchemaFinding]) -> list[SchemaFinding]:
    """Drop repeats (the open and strict passes can report the same leaf), keeping order."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for finding in findings:
        key = (finding.severity, finding.pointer, finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out
