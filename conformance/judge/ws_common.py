"""Helpers every WebSocket check module shares: which transcripts apply, the 101 gate, closes.

The 101 gate is also the protocol gate: a connection that broke RFC 6455 (``judge/ws_protocol.py``
fails it by its own ids) never lets a check of the connection's later behaviour pass.
"""

from __future__ import annotations

from conformance.judge.context import JudgeContext, request_header
from conformance.judge.registry import Observation, all_of, has_purpose, is_transport, unexercised
from conformance.transcript.model import Meta

ws = is_transport("ws")
ws_open = all_of(ws, has_purpose("stream", "handshake"))


def need_101(cx: JudgeContext) -> Observation | None:
    """None when the upgrade was accepted and the connection kept to RFC 6455; else why not."""
    if cx.head is None:
        return unexercised("no handshake response recorded")
    if cx.status != 101:
        return unexercised(f"upgrade not accepted (status {cx.status})")
    problems = cx.ws_protocol_problems
    if problems:
        return unexercised(
            "the connection violated RFC 6455, so its later behaviour proves nothing: "
            + "; ".join(problems[:3])
        )
    return None


def offered_subprotocols(meta: Meta) -> list[str] | None:
    value = request_header(meta, "Sec-WebSocket-Protocol")
    if value is None:
        return None
    return [value.strip(), *(p.strip() for p in value.split(","))]


def head_evidence(cx: JudgeContext) -> str | None:
    head = cx.head
    return repr(head.fields.get("headers")) if head is not None else None


def server_close_t(cx: JudgeContext) -> float | None:
    close = next((r for r, _ in cx.ws_received if r.fields.get("opcode") == "close"), None)
    times = [close.t] if close is not None else []
    if cx.end_how in ("eof", "reset", "incomplete"):
        times.append(cx.last_t)
    return min(times) if times else None


def server_closed_first(cx: JudgeContext) -> tuple[float, int | None] | None:
    """When the server ended the socket before we did: the time, and its close code if any."""
    server = server_close_t(cx)
    client = client_close_t(cx)
    if server is None or (client is not None and server >= client):
        return None
    code = next(
        (
            r.fields.get("close_code")
            for r, _ in cx.ws_received
            if r.fields.get("opcode") == "close"
        ),
        None,
    )
    return server, code


def client_close_t(cx: JudgeContext) -> float | None:
    close = next((r for r in cx.ws_sent if r.fields.get("opcode") == "close"), None)
    if close is not None:
        return close.t
    if cx.end_how in ("client-close", "deadline"):
        return cx.last_t
    return None
