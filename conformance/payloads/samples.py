"""Payloads a real server delivered, read straight out of the raw capture files.

The self-tests and the validation benchmark need real payloads, and they must not depend on the
suite's own SSE/WebSocket parsers (those are judged by the same captures). This reader is
deliberately small: SSE bodies are split on blank lines (the captured server only uses ``\\n``),
WebSocket text frames are JSON-decoded. Payloads are decoded the way the payload validator
expects them: JSON for entity events, the bare string for id-like events.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conformance.payloads.events import STRING_PAYLOAD_EVENTS

_SSE_PREFIX = "/api/v1/streaming/"


@dataclass(frozen=True, slots=True)
class DeliveredPayload:
    """One event as the server delivered it to a client."""

    capture: str
    transport: str
    stream: str | None
    event: str
    payload: Any
    payload_present: bool
    raw: str


def _sse_stream(path: str) -> str | None:
    parts = urlsplit(path)
    if not parts.path.startswith(_SSE_PREFIX):
        return None
    name = parts.path[len(_SSE_PREFIX) :].replace("/", ":")
    query = parse_qs(parts.query)
    if query.get("only_media", ["false"])[0] not in ("", "false", "0") and name.startswith(
        "public"
    ):
        name += ":media"
    return name or None


def decode_payload(event: str, data: Any) -> Any:
    """Decode a delivered payload the way ``PayloadValidator.check_event`` expects it.

    Entity events carry JSON text (SSE ``data``, WS ``payload`` string); id-like events carry the
    bare string, which must not be JSON-decoded (``"1099..."`` would become a lossy number).
    Text that is not JSON stays a string, so the validator can report it.
    """
    if not isinstance(data, str) or event in STRING_PAYLOAD_EVENTS:
        return data
    try:
        return json.loads(data)
    except ValueError:
        return data


def _sse_events(body: str) -> Iterator[tuple[str, str]]:
    for block in body.split("\n\n"):
        event = None
        data: list[str] = []
        for line in block.split("\n"):
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        if event is not None and data:
            yield event, "\n".join(data)


def iter_capture(jsonl: Path) -> Iterator[DeliveredPayload]:
    """Every event delivered in one capture (``<id>.jsonl`` plus, for SSE, ``<id>.body.txt``)."""
    lines = jsonl.read_text(encoding="utf-8").splitlines()
    meta = json.loads(lines[0])
    name = meta["id"]
    transport = meta["transport"]
    if transport == "sse":
        body_file = jsonl.with_name(f"{name}.body.txt")
        if not body_file.exists():
            return
        stream = _sse_stream(meta["request"].get("path", ""))
        for event, data in _sse_events(body_file.read_text(encoding="utf-8")):
            yield DeliveredPayload(
                name, "sse", stream, event, decode_payload(event, data), True, data
            )
    elif transport == "websocket":
        for line in lines[1:]:
            record = json.loads(line)
            if record.get("kind") != "ws-frame-recv" or record.get("opcode") != "text":
                continue
            try:
                message = json.loads(record["data"])
            except (TypeError, ValueError):
                continue
            if not isinstance(message, dict) or "event" not in message:
                continue
            streams = message.get("stream")
            stream = streams[0] if isinstance(streams, list) and streams else None
            present = "payload" in message
            yield DeliveredPayload(
                name,
                "websocket",
                stream,
                message["event"],
                decode_payload(message["event"], message.get("payload")),
                present,
                record["data"],
            )


def iter_captures(captures_dir: Path) -> Iterator[DeliveredPayload]:
    """Every delivered event of every capture in a directory, in file-name order."""
    for jsonl in sorted(captures_dir.glob("*.jsonl")):
        yield from iter_capture(jsonl)
