"""Encode ``{"event","payload"}`` messages byte-for-byte the way the Rails side does.

Two encoders coexist in Mastodon (notes §9): ``update``/``status.update`` are dumped without HTML
escaping, everything else goes through ``to_json``, which writes ``<``, ``>``, ``&`` (and U+2028,
U+2029) as ``\\uXXXX`` escapes. Both write compact JSON with raw UTF-8. Events such as
``filters_changed`` and ``kill`` carry no ``payload`` key at all.
"""

from __future__ import annotations

import json
from typing import Any

#: Events whose message is rendered without HTML-safe escaping (PushUpdateWorker, FanOutOnWrite).
UNESCAPED_EVENTS = frozenset({"update", "status.update"})

_RAILS_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_ABSENT = object()


def _compact(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _html_safe(text: str) -> str:
    for raw, escaped in _RAILS_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def encode_message(event: str, payload: Any = _ABSENT) -> str:
    """The exact string Rails publishes; omit ``payload`` for payload-less events."""
    message: dict[str, Any] = {"event": event}
    if payload is not _ABSENT:
        message["payload"] = payload
    text = _compact(message)
    return text if event in UNESCAPED_EVENTS else _html_safe(text)


def decode_message(message: str) -> tuple[str | None, Any, bool]:
    """``(event, payload, payload_present)`` of a published message (for records and tests)."""
    obj = json.loads(message)
    return obj.get("event"), obj.get("payload"), "payload" in obj
