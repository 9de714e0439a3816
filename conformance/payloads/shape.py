"""Findings that need no schema: a payload of the wrong JSON type, and stream-context notes.

The wrong-type messages name the likely cause (double encoding, a numeric id that loses
precision) rather than a bare "is not of type", because that is what a server developer needs.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.payloads.events import (
    ANONYMOUS_STREAM_PREFIXES,
    OBJECT_PAYLOAD_EVENTS,
    STRING_PAYLOAD_EVENTS,
    VIEWER_KEYS,
    VIEWER_STREAM_PREFIXES,
)
from conformance.payloads.findings import SchemaFinding, json_type, show


def shape_findings(event: str, payload: Any) -> list[SchemaFinding]:
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
                f"{json_type(payload)}: {show(payload)}",
                f"{event} payload must be a bare string id, got {json_type(payload)}{hint}",
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
            hint = f" (double-encoded: the string holds JSON {json_type(inner)})"
    return [
        SchemaFinding(
            "fail",
            "",
            f"object ({entity})",
            f"{json_type(payload)}: {show(payload)}",
            f"{event} payload must be a JSON object ({entity}), got {json_type(payload)}{hint}",
        )
    ]


def stream_context_findings(status: dict[str, Any], stream: str | None) -> list[SchemaFinding]:
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
