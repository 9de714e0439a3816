"""Keep-alive windows: hold SSE streams until a heartbeat, ping every WebSocket, send the
binary probe, and with ``--long`` wait for server pings and the no-pong cut, all at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from conformance.session.recorder import LiveConnection
from conformance.session.state import LiveRun


def _heartbeat_seen(items: Any) -> bool:
    from conformance.sse.events import Comment

    comments = [i for i in items if isinstance(i, Comment)]
    return len(comments) >= 2 or any(c.text.strip() not in ("", ")") for c in comments)


def ping_timeout(run: LiveRun) -> float:
    return run.settings.ping_timeout_s * run.mult


async def hold(run: LiveRun) -> None:
    """Keep streams open until each saw a heartbeat (bounded by the heartbeat timeout), ping
    every WS, send the binary probe, and with --long wait for server pings and the no-pong cut.
    All concurrent: --long costs about one ping timeout more, not one per case."""
    s = run.settings
    hb = float(s.heartbeat_timeout_s)
    window = ping_timeout(run)
    waits: list[Awaitable[Any]] = []
    for c in list(run.live.values()):
        if not c.is_open:
            continue
        if c.conn.transport == "sse" and c.conn.purpose == "stream":
            waits.append(_heartbeat_window(c, hb))
        elif c.conn.role == "binary":
            waits.append(_send_binary(run, c))
        elif c.conn.role == "server-ping":
            waits.append(_server_ping_window(c, window))
        elif c.conn.role == "no-pong":
            # Mastodon's global timer pings within one interval and cuts at the next tick.
            waits.append(c.recorder.wait_closed(max(0.0, c.started + 2 * window - _now())))
        elif c.conn.transport == "ws":
            waits.append(_ping(run, c))
    await asyncio.gather(*waits)


def _now() -> float:
    return time.monotonic()


def _got_ping(records: Any) -> bool:
    return any(r.kind == "ws-frame-recv" and r.fields.get("opcode") == "ping" for r in records)


async def _server_ping_window(c: LiveConnection, ping_timeout: float) -> None:
    """Hold the idle socket for one ping timeout from its upgrade: the judge needs a recording
    that long to say a server ping came (or did not) in time."""
    await c.recorder.wait_for_records(_got_ping, ping_timeout, what="server ping")
    remaining = c.started + ping_timeout + 0.25 - _now()
    if remaining > 0 and not c.recorder.ended:
        await c.recorder.wait_for_records(
            lambda _rs: bool(c.recorder.ended), remaining, what="ping window"
        )


async def _send_binary(run: LiveRun, c: LiveConnection) -> None:
    await c.recorder.send_binary(b"msc-binary-probe")
    await c.recorder.wait_closed(run.seconds(5.0))


async def _heartbeat_window(c: LiveConnection, hb: float) -> None:
    """Hold an SSE stream open until it shows a heartbeat, or for the whole timeout when none
    comes: a recording that holds a heartbeat already answers the judges, and waiting out the
    rest of the window would only make a run cost the timeout instead of one interval."""
    await c.recorder.wait_for(_heartbeat_seen, hb, what="heartbeat comment")


async def _ping(run: LiveRun, c: LiveConnection) -> None:
    await c.recorder.ping(b"msc")
    await c.recorder.wait_for_records(
        lambda rs: any(r.kind == "ws-frame-recv" and r.fields.get("opcode") == "pong" for r in rs),
        run.seconds(5.0),
        what="pong to our ping",
    )
