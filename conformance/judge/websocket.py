"""WebSocket: handshake headers, frame types, message shape, subscriptions, errors, keep-alive.

Expected stream arrays and expected errors are derived from what we asked (the upgrade query,
``context["subscriptions"]`` and the subscribe frames we sent), never from what came back.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from conformance.judge.context import (
    KNOWN_STREAMS,
    JudgeContext,
    Subscription,
    request_header,
    request_target,
)
from conformance.judge.registry import (
    Observation,
    all_of,
    check,
    context_flag,
    has_purpose,
    held,
    is_transport,
    noted,
    unexercised,
    violated,
)
from conformance.transcript.model import Meta, Record
from conformance.ws.messages import ErrorMessage, Malformed, StreamMessage

ws = is_transport("ws")
ws_open = all_of(ws, has_purpose("stream", "handshake"))
PING_GRACE_S = 5.0
SERVER_PING_INTERVAL_S = 30.0
PONG_WAIT_S = 10.0


def _need_101(cx: JudgeContext) -> Observation | None:
    if cx.head is None:
        return unexercised("no handshake response recorded")
    if cx.status != 101:
        return unexercised(f"upgrade not accepted (status {cx.status})")
    return None


def _offered_subprotocols(meta: Meta) -> list[str] | None:
    value = request_header(meta, "Sec-WebSocket-Protocol")
    if value is None:
        return None
    return [value.strip(), *(p.strip() for p in value.split(","))]


def _head_evidence(cx: JudgeContext) -> str | None:
    head = cx.head
    return repr(head.fields.get("headers")) if head is not None else None


def _auth_in_context(*sources: str):  # type: ignore[no-untyped-def]
    """Planning reads the context only: the planned meta carries no request headers."""
    return lambda meta: meta.context.get("auth") in sources


@check(
    "ws.handshake.no-unoffered-subprotocol",
    applies=ws,
    plan=all_of(ws_open, _auth_in_context("header", "query", "none")),
)
def no_unoffered_subprotocol(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_101(cx)) is not None:
        yield skip
        return
    offered = _offered_subprotocols(cx.meta)
    if offered is not None or cx.auth == "subprotocol":
        yield unexercised("a subprotocol was offered")
        return
    echoed = cx.header("Sec-WebSocket-Protocol")
    if echoed is None:
        yield held("no subprotocol offered, none selected")
    else:
        yield violated(
            f"expected no Sec-WebSocket-Protocol (none offered); observed {echoed!r}",
            evidence=_head_evidence(cx),
        )


@check(
    "auth.token-source.subprotocol-echoed",
    applies=ws,
    plan=all_of(ws_open, _auth_in_context("subprotocol")),
)
def subprotocol_echoed(cx: JudgeContext) -> Iterator[Observation]:
    offered = _offered_subprotocols(cx.meta)
    if offered is None and cx.auth != "subprotocol":
        yield unexercised("no subprotocol offered")
        return
    if (skip := _need_101(cx)) is not None:
        yield skip
        return
    echoed = cx.header("Sec-WebSocket-Protocol")
    if echoed is None:
        yield violated(
            "expected the offered Sec-WebSocket-Protocol echoed in the 101; observed "
            "none (Chrome fails the connection)",
            evidence=_head_evidence(cx),
        )
    elif offered is None or echoed.strip() in offered:
        yield held("offered subprotocol echoed")
    else:
        yield violated(
            "expected the offered Sec-WebSocket-Protocol value echoed exactly; "
            "observed a different value",
            evidence=_head_evidence(cx),
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
    if cx.head is None:
        if cx.end_how in ("eof", "reset", "incomplete"):
            yield held(f"upgrade refused by closing the connection ({cx.end_how})")
        else:
            yield unexercised(f"no handshake response recorded (end {cx.end_how})")
    elif cx.status == 101:
        yield violated(
            "expected the upgrade refused (no 101) for a missing/invalid token; "
            "observed 101 Switching Protocols",
            evidence=_head_evidence(cx),
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
        yield violated(f"expected 401; observed {cx.status}", evidence=_head_evidence(cx))


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
    if (skip := _need_101(cx)) is not None:
        yield skip
        return
    data_frames = [r for r, _ in cx.ws_received if r.fields.get("opcode") in ("text", "binary")]
    if not data_frames:
        yield unexercised("no data frame received")
        return
    binary = [r for r in data_frames if r.fields.get("opcode") == "binary"]
    for record in binary:
        yield violated(
            f"expected text frames; observed a binary frame at t={record.t:.3f}",
            evidence=record.data,
        )
    if not binary:
        yield held(f"{len(data_frames)} data frames, all text")


@check("ws.frame.json", applies=ws_open)
def frame_json(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_101(cx)) is not None:
        yield skip
        return
    texts = [(r, p) for r, p in cx.ws_received if r.fields.get("opcode") == "text"]
    if not texts:
        yield unexercised("no text frame received")
        return
    bad = 0
    for record, parsed in texts:
        if parsed is None:
            bad += 1
            yield violated(
                f"expected a JSON text frame; observed invalid UTF-8 at t={record.t:.3f}",
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
        yield held(f"{len(texts)} text frames, all JSON messages")


@check("ws.message.shape", applies=ws_open)
def message_shape(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_101(cx)) is not None:
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
    if (skip := _need_101(cx)) is not None:
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


# -- error frames ----------------------------------------------------------------------------

MASTODON_WS_ERRORS = {
    "unknown": "Unknown stream type",
    "tag": "Missing tag name parameter",
    "list": "Missing list name parameter",
}


def _bad_subscriptions(cx: JudgeContext) -> list[tuple[float, str]]:
    """(t, expected Mastodon error text) for each subscribe we sent that must be refused."""
    out: list[tuple[float, str]] = []
    _, query = request_target(cx.meta)
    candidates: list[tuple[float, Any, Any, Any]] = []
    for name in query.get("stream", [])[:1]:
        candidates.append((0.0, name, query.get("tag", [None])[0], query.get("list", [None])[0]))
    for record, msg in cx.sent_messages:
        if isinstance(msg, dict) and msg.get("type") == "subscribe":
            stream = msg.get("stream")
            if isinstance(stream, list):
                stream = stream[0] if stream else None
            candidates.append((record.t, stream, msg.get("tag"), msg.get("list")))
    for t, name, tag, list_id in candidates:
        if not isinstance(name, str) or name not in KNOWN_STREAMS:
            out.append((t, MASTODON_WS_ERRORS["unknown"]))
        elif name in ("hashtag", "hashtag:local") and (tag is None or tag == ""):
            out.append((t, MASTODON_WS_ERRORS["tag"]))
        elif name == "list" and (list_id is None or list_id == ""):
            out.append((t, MASTODON_WS_ERRORS["list"]))
    expected = cx.context.get("expect_error")
    if isinstance(expected, str) and cx.purpose != "error" and not out:
        out.append((0.0, expected))
    return out


def _error_frames(cx: JudgeContext) -> list[tuple[Record, ErrorMessage]]:
    return [(r, p) for r, p in cx.ws_received if isinstance(p, ErrorMessage)]


def _plans_bad_subscribe(meta: Meta) -> bool:
    subs = meta.context.get("subscriptions") or []
    for item in subs:
        if not isinstance(item, dict):
            continue
        name = item.get("stream")
        if name not in KNOWN_STREAMS:
            return True
        if name in ("hashtag", "hashtag:local") and not item.get("tag"):
            return True
        if name == "list" and not item.get("list"):
            return True
    return bool(meta.context.get("expect_error")) and meta.context.get("purpose") != "error"


bad_subscribe_planned = all_of(ws_open, _plans_bad_subscribe)


def _match_errors(cx: JudgeContext) -> list[tuple[float, str, ErrorMessage | None, Record | None]]:
    frames = _error_frames(cx)
    used: set[int] = set()
    out = []
    for t, expected in _bad_subscriptions(cx):
        found = None
        for index, (record, msg) in enumerate(frames):
            if index not in used and record.t >= t:
                used.add(index)
                found = (msg, record)
                break
        out.append((t, expected, *(found or (None, None))))
    return out


@check("ws.error.reported", applies=ws_open, plan=bad_subscribe_planned)
def error_reported(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_101(cx)) is not None:
        yield skip
        return
    matched = _match_errors(cx)
    if not matched:
        yield unexercised("no bad subscribe sent")
        return
    for t, expected, msg, _ in matched:
        if msg is None:
            yield violated(
                f"expected an error frame after the bad subscribe at t={t:.3f} "
                f"(Mastodon: {expected!r}); observed none"
            )
        else:
            yield held(f"bad subscribe at t={t:.3f} answered with an error frame")


@check("ws.error.message-exact", applies=ws_open, plan=bad_subscribe_planned)
def error_message_exact(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_101(cx)) is not None:
        yield skip
        return
    matched = [m for m in _match_errors(cx) if m[2] is not None]
    if not matched:
        yield unexercised("no error frame answering a bad subscribe")
        return
    for _, expected, msg, _ in matched:
        assert msg is not None
        if msg.error == expected:
            yield held(f"error text {expected!r}")
        else:
            yield violated(f"expected error {expected!r}; observed {msg.error!r}", evidence=msg.raw)


def _after_unsubscribe(cx: JudgeContext, t: float) -> bool:
    last = None
    for record, msg in cx.sent_messages:
        if record.t <= t and isinstance(msg, dict):
            last = msg.get("type")
    return last == "unsubscribe"


@check("ws.error.frame-shape", applies=ws_open, plan=bad_subscribe_planned)
def error_frame_shape(cx: JudgeContext) -> Iterator[Observation]:
    frames = _error_frames(cx)
    if not frames:
        yield unexercised("no error frame received")
        return
    for record, msg in frames:
        if msg.status is None and not _after_unsubscribe(cx, record.t):
            yield violated(
                'expected {"error": str, "status": int}; observed no integer status',
                evidence=msg.raw,
            )
        else:
            yield held("error frames have error and status")


def _server_close_t(cx: JudgeContext) -> float | None:
    close = next((r for r, _ in cx.ws_received if r.fields.get("opcode") == "close"), None)
    times = [close.t] if close is not None else []
    if cx.end_how in ("eof", "reset", "incomplete"):
        times.append(cx.last_t)
    return min(times) if times else None


def _server_closed_first(cx: JudgeContext) -> tuple[float, int | None] | None:
    """When the server ended the socket before we did: the time, and its close code if any."""
    server = _server_close_t(cx)
    client = _client_close_t(cx)
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


def _client_close_t(cx: JudgeContext) -> float | None:
    close = next((r for r in cx.ws_sent if r.fields.get("opcode") == "close"), None)
    if close is not None:
        return close.t
    if cx.end_how in ("client-close", "deadline"):
        return cx.last_t
    return None


@check("ws.error.socket-stays-open", applies=ws_open, plan=bad_subscribe_planned)
def socket_stays_open(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_101(cx)) is not None:
        yield skip
        return
    bad = _bad_subscriptions(cx)
    if not bad:
        yield unexercised("no bad subscribe sent")
        return
    closed = _server_closed_first(cx)
    if closed is not None:
        server, code = closed
        yield violated(
            f"expected the socket to stay open after the bad subscribe at "
            f"t={bad[0][0]:.3f}; observed the server closing it at t={server:.3f} "
            f"(close code {code})"
        )
    else:
        yield held("socket stayed open after the bad subscribe until we closed it")


# -- ping / pong / close -----------------------------------------------------------------------


@check("ws.ping.pong", applies=ws_open)
def ping_pong(cx: JudgeContext) -> Iterator[Observation]:
    pings = [r for r in cx.ws_sent if r.fields.get("opcode") == "ping"]
    if not pings:
        yield unexercised("we sent no ping")
        return
    pongs = [r for r, _ in cx.ws_received if r.fields.get("opcode") == "pong"]
    timeouts = list(cx.transcript.of_kind("timeout"))
    for ping in pings:
        pong = next((p for p in pongs if p.t >= ping.t and p.data == ping.data), None)
        if pong is not None:
            yield held(f"pong {pong.t - ping.t:.3f} s after our ping")
            continue
        other = next((p for p in pongs if p.t >= ping.t), None)
        if other is not None:
            yield violated(
                f"expected a pong with our ping data {ping.data!r}; observed {other.data!r}",
                evidence=other.data,
            )
        elif any(t.t >= ping.t for t in timeouts) or cx.last_t - ping.t >= PONG_WAIT_S:
            yield violated(
                f"expected a pong to our ping at t={ping.t:.3f}; observed none "
                f"(recording ran {cx.last_t - ping.t:.1f} s after it)"
            )
        else:
            yield unexercised(
                f"no pong, but the recording ended {cx.last_t - ping.t:.3f} s after our ping"
            )


def _long_ws(meta: Meta) -> bool:
    return meta.transport == "ws" and meta.context.get("purpose") in ("stream", "handshake")


def _answers_pings(meta: Meta) -> bool:
    return meta.context.get("answer_pings") is not False


def _withholds_pongs(meta: Meta) -> bool:
    return meta.context.get("answer_pings") is False


def _is_long(cx: JudgeContext) -> bool:
    return cx.long or bool(cx.context.get("long"))


def ping_window_s(cx: JudgeContext) -> float:
    """The longest silence allowed before a server ping: the run's ``--ping-timeout`` (in the
    context), else Mastodon's 30 s timer plus grace."""
    value = cx.context.get("ping_timeout_s")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return SERVER_PING_INTERVAL_S + PING_GRACE_S


@check(
    "ws.ping.server-keepalive",
    applies=_long_ws,
    plan=all_of(_long_ws, context_flag("long"), _answers_pings),
)
def server_keepalive(cx: JudgeContext) -> Iterator[Observation]:
    if not _is_long(cx):
        yield unexercised("needs a long run (--long)")
        return
    if (skip := _need_101(cx)) is not None:
        yield skip
        return
    window = ping_window_s(cx)
    start, stop = cx.head_t, cx.last_t
    if stop - start < window:
        yield unexercised(f"socket held {stop - start:.1f} s, shorter than {window:g} s")
        return
    pings = [r.t for r, _ in cx.ws_received if r.fields.get("opcode") == "ping"]
    points = [start, *pings]
    if cx.end_how in ("deadline", "client-close"):
        points.append(stop)
    gaps = [b - a for a, b in pairwise(points)]
    largest = max(gaps) if gaps else stop - start
    listed = ", ".join(f"{p - start:.1f}" for p in pings) or "none"
    if not pings or largest > window:
        yield violated(
            f"expected a server ping within {window:g} s and then at least that "
            f"often; observed pings at [{listed}] s, largest "
            f"gap {largest:.1f} s"
        )
    else:
        yield held(f"server pings at [{listed}] s after the upgrade")


@check(
    "ws.ping.no-pong-terminated",
    applies=_long_ws,
    plan=all_of(_long_ws, context_flag("long"), _withholds_pongs),
)
def no_pong_terminated(cx: JudgeContext) -> Iterator[Observation]:
    if not _is_long(cx) or cx.context.get("answer_pings") is True:
        yield unexercised("needs a long run in which we leave pings unanswered")
        return
    pings = [r for r, _ in cx.ws_received if r.fields.get("opcode") == "ping"]
    pongs = [r for r in cx.ws_sent if r.fields.get("opcode") == "pong"]
    if not pings or pongs:
        yield unexercised("no unanswered server ping")
        return
    closed = _server_closed_first(cx)
    if closed is not None:
        server, code = closed
        yield noted(
            f"server disconnected {server - pings[0].t:.1f} s after its first "
            f"unanswered ping ({'close ' + str(code) if code is not None else cx.end_how}; "
            "Mastodon: terminated at the next 30 s tick)"
        )
    else:
        yield noted(
            f"connection still open {cx.last_t - pings[0].t:.1f} s after an unanswered ping"
        )


@check("ws.close.binary-1003", applies=ws_open, plan=all_of(ws_open, context_flag("send_binary")))
def binary_1003(cx: JudgeContext) -> Iterator[Observation]:
    sent = next((r for r in cx.ws_sent if r.fields.get("opcode") == "binary"), None)
    if sent is None:
        yield unexercised("we sent no binary frame")
        return
    close = next(
        (r for r, _ in cx.ws_received if r.fields.get("opcode") == "close" and r.t >= sent.t), None
    )
    if close is None:
        yield noted("no close frame after our binary frame (Mastodon: close 1003)")
    else:
        code = close.fields.get("close_code")
        yield noted(
            f"binary frame answered with close {code} "
            f"{close.fields.get('close_reason', '')!r}"
            + (" (as Mastodon)" if code == 1003 else " (Mastodon: 1003)")
        )
