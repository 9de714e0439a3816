"""Sans-I/O reading of the JSON text frames a Mastodon streaming server sends over WebSocket.

Shapes (streaming/index.js): events are ``{"stream": [...], "event": "...", "payload": "..."}``
with the payload JSON-encoded into a string (a bare string for ``delete`` and friends); errors are
``{"error": "...", "status": N}`` (unsubscribe errors carry no status). Anything else is
``Malformed``: judges decide whether that matters. Parsing never raises.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BARE_STRING_EVENTS",
    "ErrorMessage",
    "Malformed",
    "ServerMessage",
    "StreamMessage",
    "decoded_payload",
    "parse_server_text",
    "subscribe_message",
    "unsubscribe_message",
]

#: Events whose payload is a bare string (an id or a text), not JSON-encoded.
BARE_STRING_EVENTS = frozenset({"delete", "announcement.delete", "notifications_merged"})


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamMessage:
    """An event frame. ``stream`` is None when the key is absent or not a list."""

    stream: list[Any] | None
    event: str | None
    payload: Any
    payload_present: bool
    raw: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorMessage:
    """An error frame; ``status`` is None when absent or not an integer."""

    error: str
    status: int | None
    raw: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Malformed:
    """A frame that is neither shape; ``reason`` says why."""

    reason: str
    raw: str


ServerMessage = StreamMessage | ErrorMessage | Malformed


def parse_server_text(text: str) -> ServerMessage:
    """Classify one server text frame."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return Malformed(reason=f"not JSON: {exc}", raw=text)
    if not isinstance(obj, dict):
        return Malformed(reason=f"JSON {type(obj).__name__}, expected an object", raw=text)
    if "error" in obj:
        error = obj["error"]
        if not isinstance(error, str):
            return Malformed(reason="error is not a string", raw=text)
        status = obj.get("status")
        if not isinstance(status, int) or isinstance(status, bool):
            status = None
        return ErrorMessage(error=error, status=status, raw=text)
    if "event" in obj or "stream" in obj:
        stream = obj.get("stream")
        event = obj.get("event")
        return StreamMessage(
            stream=stream if isinstance(stream, list) else None,
            event=event if isinstance(event, str) else None,
            payload=obj.get("payload"),
            payload_present="payload" in obj,
            raw=text,
        )
    return Malformed(reason="object has neither 'event'/'stream' nor 'error'", raw=text)


def decoded_payload(message: StreamMessage) -> Any:
    """The payload as the payload validator wants it: JSON-decoded, except bare-string events.

    A string that is not valid JSON is returned unchanged (the schema check then reports it).
    """
    payload = message.payload
    if not isinstance(payload, str) or message.event in BARE_STRING_EVENTS:
        return payload
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        return payload


def _control_message(kind: str, stream: str, tag: str | None, list_id: str | int | None) -> str:
    obj: dict[str, Any] = {"type": kind, "stream": stream}
    if tag is not None:
        obj["tag"] = tag
    if list_id is not None:
        obj["list"] = list_id
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def subscribe_message(stream: str, tag: str | None = None, list_id: str | int | None = None) -> str:
    """``{"type":"subscribe","stream":...}`` plus ``tag``/``list`` when given."""
    return _control_message("subscribe", stream, tag, list_id)


def unsubscribe_message(
    stream: str, tag: str | None = None, list_id: str | int | None = None
) -> str:
    """``{"type":"unsubscribe","stream":...}`` plus ``tag``/``list`` when given."""
    return _control_message("unsubscribe", stream, tag, list_id)
