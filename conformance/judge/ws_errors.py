"""WebSocket error frames: a bad subscribe is reported, in Mastodon's words, on an open socket.

Expected errors are derived from what we asked (the upgrade query, ``context["subscriptions"]``
and the subscribe frames we sent), never from what came back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance.judge.context import KNOWN_STREAMS, JudgeContext, request_target
from conformance.judge.registry import (
    Observation,
    all_of,
    check,
    held,
    unexercised,
    violated,
)
from conformance.judge.ws_common import (
    need_101,
    server_closed_first,
    ws_open,
)
from conformance.transcript.model import Meta, Record
from conformance.ws.messages import ErrorMessage

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
    if (skip := need_101(cx)) is not None:
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
    if (skip := need_101(cx)) is not None:
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


@check("ws.error.socket-stays-open", applies=ws_open, plan=bad_subscribe_planned)
def socket_stays_open(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := need_101(cx)) is not None:
        yield skip
        return
    bad = _bad_subscriptions(cx)
    if not bad:
        yield unexercised("no bad subscribe sent")
        return
    closed = server_closed_first(cx)
    if closed is not None:
        server, code = closed
        yield violated(
            f"expected the socket to stay open after the bad subscribe at "
            f"t={bad[0][0]:.3f}; observed the server closing it at t={server:.3f} "
            f"(close code {code})"
        )
    else:
        yield held("socket stayed open after the bad subscribe until we closed it")
