"""Bounded JSON decoding for everything a server (or a transcript from a bug report) sends us.

Why: ``json.loads`` recurses once per nesting level, so 200,000 nested brackets raise a
``RecursionError`` inside the suite (judged ``error``, the suite's fault) and a few hundred
levels decode but then blow the recursion limit of whatever walks the value (schema
validation, redaction). A conformance client must survive the servers it is meant to expose,
so the depth is measured first by a cheap scan of the brackets outside strings, and the size
is bounded before anything is decoded. Both limits are documented requirements
(``payload.json.depth-bounded``, ``payload.size-bounded``): a server that exceeds them fails,
because a real client decoding the same bytes would be exposed.

``loads`` raises ``JSONTooDeep`` / ``JSONTooLarge``, both ``ValueError`` subclasses, so a caller
that already treats undecodable text as "not JSON" stays correct without change.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "JSONBoundsError",
    "JSONTooDeep",
    "JSONTooLarge",
    "check_bounds",
    "loads",
    "nesting_depth",
]

#: Deepest nesting accepted. Mastodon's deepest entity (a notification of a reblogged status
#: with media and a poll) nests about 8 levels; 64 leaves room for any extension while staying
#: far below the recursion limits of common clients' decoders (Python ~1000, Ruby's JSON 100).
MAX_JSON_DEPTH = 64
#: Largest payload accepted, in bytes (UTF-8). A Mastodon status with four attachments, a
#: poll and 500 custom emojis stays well under 200 KiB. Kept below the transports' own bounds
#: (SSE line 512 KiB, SSE event and WebSocket message 1 MiB) so that an oversized payload is
#: judged as a payload (``payload.size-bounded``) before the recorder's limits cut it.
MAX_JSON_BYTES = 256 << 10

# A complete JSON string (escapes included), written as an unrolled loop: linear, no backtracking.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class JSONBoundsError(ValueError):
    """The text exceeds a documented bound; ``kind`` is ``depth`` or ``size``."""

    kind = "bounds"

    def __init__(self, message: str, *, observed: int, limit: int) -> None:
        super().__init__(message)
        self.observed = observed
        self.limit = limit


class JSONTooDeep(JSONBoundsError):
    kind = "depth"


class JSONTooLarge(JSONBoundsError):
    kind = "size"


def _text(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    return bytes(data).decode("utf-8")  # UnicodeDecodeError is a ValueError, as json's


def byte_length(text: str) -> int:
    """UTF-8 length without encoding twice for the common all-ASCII case."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", errors="surrogatepass"))


def nesting_depth(text: str, *, stop_above: int | None = None) -> int:
    """The deepest bracket nesting of ``text`` outside JSON strings.

    Stops counting as soon as the depth exceeds ``stop_above`` (then returns that depth), so a
    bomb costs one regex pass and a short loop. Unbalanced input is measured as written."""
    bare = _STRING.sub("", text) if '"' in text else text
    depth = deepest = 0
    for match in _BRACKET.finditer(bare):
        if match.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    return deepest
        else:
            depth = max(0, depth - 1)
    return deepest


def check_bounds(
    data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, max_bytes: int = MAX_JSON_BYTES
) -> str:
    """The text, once it is known to be within both bounds (raises ``JSONBoundsError``)."""
    size = len(data) if isinstance(data, bytes | bytearray) else byte_length(data)
    if size > max_bytes:
        raise JSONTooLarge(
            f"{size} bytes, more than the {max_bytes} bytes a payload may have",
            observed=size,
            limit=max_bytes,
        )
    text = _text(data)
    # Fewer opening brackets than the bound (anywhere, strings included) cannot nest deeper:
    # two C-speed counts decide a typical payload without the scan (~0.1 s of a run's judging).
    if text.count("[") + text.count("{") <= max_depth:
        return text
    depth = nesting_depth(text, stop_above=max_depth)
    if depth > max_depth:
        raise JSONTooDeep(
            f"JSON nested more than {max_depth} levels deep",
            observed=depth,
            limit=max_depth,
        )
    return text


def loads(
    data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, max_bytes: int = MAX_JSON_BYTES
) -> Any:
    """``json.loads`` that never recurses past ``max_depth`` nor reads past ``max_bytes``."""
    text = check_bounds(data, max_depth=max_depth, max_bytes=max_bytes)
    try:
        return json.loads(text)
    except RecursionError as exc:  # belt and braces: the scan should have refused it
        raise JSONTooDeep(
            "JSON nested too deep to decode", observed=max_depth + 1, limit=max_depth
        ) from exc
