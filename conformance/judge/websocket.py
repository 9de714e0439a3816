"""WebSocket: handshake headers, frame types, message shape, subscriptions.

Error frames are judged in ``ws_errors.py``, keep-alive in ``ws_keepalive.py``, RFC 6455 framing
in ``ws_protocol.py``.

Expected stream arrays are derived from what we asked (the upgrade query,
``context["subscriptions"]`` and the subscribe frames we sent), never from what came back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance.judge.context import JudgeContext, Subscription
from conformance.judge.errors import dropped_refusal
from conformance.judge.registry import (
    Observation,
    all_of,
    check,
    held,
    noted,
    unexercised,
    violated,
)
from conformance.judge.ws_common import head_evidence, need_101, offered_subprotocols, ws, ws_open
from conformance.transcript.model import Meta
from conformance.ws.messages import Malformed, StreamMessage


def _auth_in_context(*sources: str):  # type: ignore[no-untyped-def]
    """Planning reads the context only: the planned meta carries no request headers."""
    return lambda meta: meta.context.get("auth") in sources


@check(
    "ws.handshake.no-unoffered-subprotocol",
    applies=ws,
    plan=all_of(ws_open, _auth_in_context("header", "query", "none")),
)
def no_unoffered_subprotocol(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := need_101(cx)) is not None:
        yield skip
        return
    offered = offered_subprotocols(cx.meta)
    if offered is not None or cx.auth == "subprotocol":
        yield unexercised("a subprotocol was offered")
        return
    echoed = cx.header("Sec-WebSocket-Protocol")
    if echoed is None:
        yield held("no subprotocol offered, none selected")
    else:
        yield violated(
            f"expected no Sec-WebSocket-Protocol (none offered); observed {echoed!r}",
            evidence=head_evidence(cx),
        )


@check(
    "auth.token-source.subprotocol-echoed",
    applies=ws,
    plan=all_of(ws_open, _auth_in_context("subprotocol")),
)
def subprotocol_echoed(cx: JudgeContext) -> Iterator[Observation]:
    offered = offered_subprotocols(cx.meta)
    if offered is None and cx.auth != "subprotocol":
        yield unexercised("no subprotocol offered")
        return
    if (skip := need_101(cx)) is not None:
        yield skip
        return
    echoed = cx.header("Sec-WebSocket-Protocol")
    if echoed is None:
        yield violated(
            "expected the offered Sec-WebSocket-Protocol echoed in the 101; observed "
            "none (Chrome fails the connection)",
            evidence=head_evidence(cx),
        )
    elif offered is None or echoed.strip() in offered:
        yield held("offered subprotocol echoed")
    else:
        yield violated(
            "expected the offered Sec-WebSocket-Protocol value echoed exactly; "
            "observed a different value",
            evidence=head_evidence(cx),
        )


def _refusal_expected(meta: Meta) -> bool:
    if meta.context.get("purpose") != "error":
        return False
    expected = meta.context.get("expect_status")
    return expected != 101


def _token_refusal(meta: Meta) -> bool:
    if not _refusal_expected(meta):
        return False
    error = str(meta.context.get("expect_error") or "")
    return meta.context.get("expect_status") in (None, 401) or "token" in error.lower()


@check("ws.handshake.refused-without-valid-token", applies=all_of(ws, _token_refusal))
def refused(cx: JudgeContext) -> Iterator[Observation]:
    if (dropped := dropped_refusal(cx)) is not None:
        # A dropped connection is no refusal: clients read it as a network fault and retry.
        yield dropped
    elif cx.status == 101:
        yield violated(
            "expected the upgrade refused (no 101) for a missing/invalid token; "
            "observed 101 Switching Protocols",
            evidence=head_evidence(cx),
        )
    else:
        yield held(f"upgrade refused with {cx.status}")


@check("ws.handshake.refused-status-401", applies=all_of(ws, _token_refusal))
def refused_401(cx: JudgeContext) -> Iterator[Observation]:
    if cx.head is None or cx.status == 101:
        yield unexercised("no HTTP refusal to judge")
    elif cx.status == 401:
        yield held("refused with 401")
    else:
        yield violated(f"expected 401; observed {cx.status}", evidence=head_evidence(cx))


@check("ws.handshake.x-error-message", applies=all_of(ws, _token_refusal))
def x_error_message(cx: JudgeContext) -> Iterator[Observation]:
    if cx.head is None or cx.status == 101:
        yield unexercised("no HTTP refusal to judge")
        return
    value = cx.header("X-Error-Message")
    yield noted(
        f"X-Error-Message: {value!r}"
        if value is not None
        else "no X-Error-Message header (Mastodon sends one)"
    )


@check("ws.frame.text", applies=ws_open)
def frame_text(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := need_101(cx)) is not None:
        yield skip
        return
    data_frames = [r for r, _ in cx.ws_received if r.fields.get("opcode") in ("text", "binary")]
    if not data_frames:
        yield unexercised("no data message received")
        return
    binary = [r for r in data_frames if r.fields.get("opcode") == "binary"]
    for record in binary:
        yield violated(
            f"expected text frames; observed a binary message at t={record.t:.3f}",
            evidence=record.data,
        )
    if not binary:
        yield held(f"{len(data_frames)} data messages, all text (reassembled from their frames)")


@check("ws.frame.json", applies=ws_open)
def frame_json(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := need_101(cx)) is not None:
        yield skip
        return
    texts = [(r, p) for r, p in cx.ws_received if r.fields.get("opcode") == "text"]
    if not texts:
        yield unexercised("no text message received")
        return
    bad = 0
    for record, parsed in texts:
        if parsed is None:
            bad += 1
            yield violated(
                f"expected a JSON text message; observed invalid UTF-8 at t={record.t:.3f}",
                evidence=record.data,
            )
        elif isinstance(parsed, Malformed):
            bad += 1
            yield violated(
                f"expected a JSON object (event or error); observed {parsed.reason}: "
                f"{parsed.raw[:60]!r}",
                evidence=parsed.raw,
            )
    if not bad:
        yield held(f"{len(texts)} text messages, all JSON")


@check("ws.message.shape", applies=ws_open)
def message_shape(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := need_101(cx)) is not None:
        yield skip
        return
    messages = [p for _, p in cx.ws_received if isinstance(p, StreamMessage)]
    if not messages:
        yield unexercised("no event frame received")
        return
    bad = 0
    for msg in messages:
        problems = []
        if msg.stream is None:
            problems.append("'stream' missing or not an array")
        if msg.event is None:
            problems.append("'event' missing or not a string")
        if not msg.payload_present and msg.event != "filters_changed":
            problems.append("'payload' missing")
        if problems:
            bad += 1
            yield violated(
                "expected {stream: [...], event: str, payload}; observed " + ", ".join(problems),
                evidence=msg.raw,
            )
    if not bad:
        yield held(f"{len(messages)} event frames have stream, event and payload")


def _matches(stream: list[Any], sub: Subscription) -> bool:
    if not stream or stream[0] != sub.name:
        return False
    if sub.name in ("hashtag", "hashtag:local", "list"):
        if len(stream) != 2:
            return False
        return stream[1] == sub.param or (
            sub.param is not None and str(stream[1]) == str(sub.param)
        )
    return len(stream) == 1


def _expected_arrays(subs: list[Subscription]) -> str:
    out = []
    for sub in subs:
        out.append(
            f"[{sub.name!r}]"
            if sub.param is None and sub.name not in ("hashtag", "hashtag:local", "list")
            else f"[{sub.name!r}, {sub.param!r}]"
        )
    return ", ".join(dict.fromkeys(out))


@check("ws.message.stream-matches-subscription", applies=ws_open)
def stream_matches(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := need_101(cx)) is not None:
        yield skip
        return
    messages = [
        p for _, p in cx.ws_received if isinstance(p, StreamMessage) and p.stream is not None
    ]
    if not messages:
        yield unexercised("no event frame with a stream array received")
        return
    subs = cx.subscriptions
    if not subs:
        yield unexercised("no subscription could be derived from the request")
        return
    bad = 0
    for msg in messages:
        assert msg.stream is not None
        if not any(_matches(msg.stream, sub) for sub in subs):
            bad += 1
            yield violated(
                f"expected stream in {_expected_arrays(subs)}; observed "
                f"{msg.stream!r} ({msg.event})",
                evidence=msg.raw,
            )
    if not bad:
        yield held(f"{len(messages)} event frames name a subscribed stream")
