"""WebSocket keep-alive and closing: pongs, server pings, unanswered pings, binary frames.

Windows are ``judge.tolerances`` constants x the recorded ``--timeout-multiplier``: a pong is due
within ``PONG_WINDOW_S``, a server ping within the ping window plus ``SERVER_PING_TOLERANCE_S``.
The no-pong cut and the binary-frame close are INFO notes and compare no time.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from conformance.judge.context import JudgeContext
from conformance.judge.registry import (
    Observation,
    all_of,
    check,
    context_flag,
    held,
    noted,
    unexercised,
    violated,
)
from conformance.judge.tolerances import PONG_WINDOW_S, SERVER_PING_TOLERANCE_S, scaled
from conformance.judge.ws_common import (
    need_101,
    server_closed_first,
    ws_open,
)
from conformance.transcript.model import Meta

PING_GRACE_S = 5.0
SERVER_PING_INTERVAL_S = 30.0

# -- ping / pong / close -----------------------------------------------------------------------


@check("ws.ping.pong", applies=ws_open)
def ping_pong(cx: JudgeContext) -> Iterator[Observation]:
    pings = [r for r in cx.ws_sent if r.fields.get("opcode") == "ping"]
    if not pings:
        yield unexercised("we sent no ping")
        return
    pongs = [r for r, _ in cx.ws_received if r.fields.get("opcode") == "pong"]
    timeouts = list(cx.transcript.of_kind("timeout"))
    window = scaled(PONG_WINDOW_S, cx.timeout_multiplier)
    for ping in pings:
        pong = next((p for p in pongs if p.t >= ping.t and p.data == ping.data), None)
        if pong is not None and pong.t - ping.t <= window:
            yield held(f"pong {pong.t - ping.t:.3f} s after our ping (window {window:g} s)")
            continue
        if pong is not None:
            yield violated(
                f"expected a pong within {window:g} s of our ping at t={ping.t:.3f}; "
                f"observed it {pong.t - ping.t:.3f} s after",
                evidence=pong.data,
            )
            continue
        other = next((p for p in pongs if p.t >= ping.t), None)
        if other is not None:
            yield violated(
                f"expected a pong with our ping data {ping.data!r}; observed {other.data!r}",
                evidence=other.data,
            )
        elif any(t.t >= ping.t for t in timeouts) or cx.last_t - ping.t >= window:
            yield violated(
                f"expected a pong to our ping at t={ping.t:.3f} within {window:g} s; observed "
                f"none (recording ran {cx.last_t - ping.t:.1f} s after it)"
            )
        else:
            yield unexercised(
                f"no pong, but the recording ended {cx.last_t - ping.t:.3f} s after our ping "
                f"(window {window:g} s)"
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
    if (skip := need_101(cx)) is not None:
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
    margin = scaled(SERVER_PING_TOLERANCE_S, cx.timeout_multiplier)
    if not pings or largest > window + margin:
        yield violated(
            f"expected a server ping within {window:g} s (+{margin:g} s margin) and then at "
            f"least that often; observed pings at [{listed}] s, largest gap {largest:.1f} s"
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
    closed = server_closed_first(cx)
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
