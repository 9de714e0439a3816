"""RFC 6455 rules as pure functions over a judge context: one ``*_problems`` per requirement.

Kept below ``judge/context.py`` (which asks ``protocol_problems`` for its gate) and imports
nothing of it: ``cx`` is any object with the ``JudgeContext`` attributes used here.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

from conformance.transcript.model import Record

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONTROL = ("close", "ping", "pong")
KNOWN = ("continuation", "text", "binary", *CONTROL)
#: RFC 6455 §7.4.1 codes an endpoint may send (plus IANA's 1012-1014) and the private ranges.
SENDABLE_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)})
Problem = tuple[str, Any]


def sent_key(meta: Any) -> str | None:
    """The Sec-WebSocket-Key of the recorded upgrade request, if recorded."""
    for item in meta.request.get("headers") or []:
        if (
            isinstance(item, list | tuple)
            and len(item) == 2
            and str(item[0]).lower() == "sec-websocket-key"
        ):
            return str(item[1])
    return None


def _head(cx: Any) -> str | None:
    head = cx.head
    return repr(head.fields.get("headers")) if head is not None else None


def expected_accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key.strip() + GUID).encode()).digest()).decode()


def _evidence(record: Record) -> str:
    header = record.fields.get("header_hex")
    data = record.data[:80]
    return f"header {header} payload {data!r}" if header else repr(data)


def _at(record: Record) -> str:
    return f"t={record.t:.3f}"


def accept_problems(cx: Any) -> list[Problem]:
    if cx.status != 101:
        return []
    key = sent_key(cx.meta)
    if key is None:
        return []
    accept = cx.header("Sec-WebSocket-Accept")
    want = expected_accept(key)
    if accept is None:
        return [(f"expected Sec-WebSocket-Accept: {want}; observed none", _head(cx))]
    if accept.strip() != want:
        return [(f"expected Sec-WebSocket-Accept: {want}; observed {accept!r}", _head(cx))]
    return []


def masked_problems(cx: Any) -> list[Problem]:
    return [
        (
            f"expected unmasked server frames; observed a masked {r.fields.get('opcode')} "
            f"frame at {_at(r)}",
            _evidence(r),
        )
        for r in cx.ws_frames
        if r.fields.get("masked") is True
    ]


def opcode_problems(cx: Any) -> list[Problem]:
    out = []
    for r in cx.ws_frames:
        if r.fields.get("opcode") not in KNOWN:
            value = r.fields.get("opcode_value", r.fields.get("opcode"))
            out.append(
                (
                    f"expected a defined opcode; observed reserved opcode {value} at {_at(r)}",
                    _evidence(r),
                )
            )
    return out


def rsv_problems(cx: Any) -> list[Problem]:
    if cx.header("Sec-WebSocket-Extensions"):
        return []  # an extension was claimed: its bits are its own business
    return [
        (
            f"expected RSV1-3 = 0 (no extension negotiated); observed rsv={r.fields.get('rsv')} "
            f"on a {r.fields.get('opcode')} frame at {_at(r)}",
            _evidence(r),
        )
        for r in cx.ws_frames
        if r.fields.get("rsv") not in (None, 0)
    ]


def control_problems(cx: Any) -> list[Problem]:
    out = []
    for r in cx.ws_frames:
        if r.fields.get("opcode") not in CONTROL:
            continue
        length = r.fields.get("length")
        size = length if isinstance(length, int) else len(r.data)
        if size > 125:
            out.append(
                (
                    f"expected a control frame of at most 125 bytes; observed a "
                    f"{r.fields.get('opcode')} frame of {size} bytes at {_at(r)}",
                    _evidence(r),
                )
            )
        if r.fields.get("fin") is False:
            out.append(
                (
                    f"expected control frames unfragmented; observed a "
                    f"{r.fields.get('opcode')} frame without FIN at {_at(r)}",
                    _evidence(r),
                )
            )
    return out


def fragmentation_problems(cx: Any) -> list[Problem]:
    assembly = cx.ws_assembly
    out: list[Problem] = [(f"at t={t:.3f}: {text}", None) for t, text in assembly.problems]
    server_ended = cx.end_how in ("eof", "reset", "incomplete")
    for message in assembly.unfinished:
        if message.limit is None and server_ended:
            out.append(
                (
                    f"expected the fragmented message begun at t={message.t_first:.3f} finished; "
                    f"observed {message.frames} frames without FIN, then the connection ended",
                    message.data[:80],
                )
            )
    return out


def limit_problems(cx: Any) -> list[Problem]:
    out: list[Problem] = []
    for r in cx.transcript.of_kind("note"):
        if r.fields.get("limit"):
            out.append((f"{r.fields.get('text')} at {_at(r)}", None))
    if not out and cx.ws_assembly.limit is not None:
        out.append((f"recorded frames hold a {cx.ws_assembly.limit}", None))
    return out


def close_problems(cx: Any) -> list[Problem]:
    out = []
    for r in cx.ws_frames:
        if r.fields.get("opcode") != "close" or not r.data:
            continue
        data = r.data
        if len(data) == 1:
            out.append(
                (
                    f"expected an empty close body or a 2-byte code; observed 1 byte at {_at(r)}",
                    _evidence(r),
                )
            )
            continue
        code = int.from_bytes(data[:2], "big")
        if code not in SENDABLE_CLOSE_CODES and not 3000 <= code <= 4999:
            out.append(
                (
                    f"expected a close code an endpoint may send; observed {code} at {_at(r)}",
                    _evidence(r),
                )
            )
        try:
            data[2:].decode("utf-8")
        except UnicodeDecodeError:
            out.append(
                (
                    f"expected a UTF-8 close reason; observed {data[2:80]!r} at {_at(r)}",
                    _evidence(r),
                )
            )
    return out


def utf8_problems(cx: Any) -> list[Problem]:
    out = []
    for record, _ in cx.ws_received:
        if record.fields.get("opcode") != "text":
            continue
        try:
            record.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.append(
                (
                    f"expected UTF-8 text; observed {exc.reason} at byte {exc.start} of the "
                    f"message completed at {_at(record)}",
                    record.data[:120],
                )
            )
    return out


RULES: dict[str, Callable[[Any], list[Problem]]] = {
    "ws.handshake.accept-valid": accept_problems,
    "ws.frame.unmasked": masked_problems,
    "ws.frame.opcode-known": opcode_problems,
    "ws.frame.rsv-zero": rsv_problems,
    "ws.frame.control": control_problems,
    "ws.frame.fragmentation": fragmentation_problems,
    "ws.frame.within-limits": limit_problems,
    "ws.close.payload-valid": close_problems,
    "ws.frame.utf8": utf8_problems,
}


def protocol_problems(cx: Any) -> list[str]:
    """Every RFC 6455 violation on this connection, as ``<requirement>: <message>``."""
    if cx.meta.transport != "ws" or cx.status != 101:
        return []
    return [f"{rid}: {msg}" for rid, rule in RULES.items() for msg, _ in rule(cx)]
