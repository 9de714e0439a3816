"""Connection lifecycle: open every planned connection at once (or say why not), send the
WebSocket subscriptions, close everything; bounded gathers that honour Ctrl-C."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from typing import Any

import httpx

from conformance.judge.heartbeat import HEARTBEAT_TOLERANCE_S
from conformance.matrix.cases import PlannedCase
from conformance.matrix.streams import LIST, MIXED_TAG, OTHER_TAG, TAG
from conformance.redact import Redactor
from conformance.selection import id_glob, matches_any
from conformance.session.keepalive import ping_timeout
from conformance.session.plan import Connection, connections, plan_meta
from conformance.session.recorder import LiveConnection, resolve_token
from conformance.session.setup import missing, retry_policy
from conformance.session.state import LiveRun
from conformance.transcript.model import Meta

log = logging.getLogger(__name__)

#: Purposes whose connection is one request and its answer (opened in the first wave).
ONE_SHOT_PURPOSES = frozenset({"error", "health", "http"})
ONE_SHOT, HELD = True, False


def fully_excluded(
    conns: Iterable[Connection], cases: Iterable[PlannedCase], patterns: Iterable[str]
) -> set[str]:
    """Keys of the connections all of whose cases ``--exclude`` names: not opened at all.

    A case serves a connection when its id's parameter is the connection's key, or starts with
    it and a ``-`` (``[sse-public-update]``). The match is deliberately generous: a case claimed
    by two connections keeps both open, so an exclusion can only ever save a connection.
    """
    globs = [id_glob(p) for p in patterns]
    if not globs:
        return set()
    params = [(c.id[c.id.find("[") + 1 : -1], c) for c in cases if c.id.endswith("]")]
    out: set[str] = set()
    for conn in conns:
        served = [c for p, c in params if p == conn.key or p.startswith(conn.key + "-")]
        if served and all(matches_any(globs, c.id, c.requirement) for c in served):
            out.add(conn.key)
    return out


async def open_all(
    run: LiveRun, client: httpx.AsyncClient, redactor: Redactor, tokens: dict[str, str]
) -> None:
    s = run.settings
    list_id = run.list_id or s.list_id or ""
    resolve = {
        TAG: run.tag,
        OTHER_TAG: f"{run.tag}other",
        MIXED_TAG: mixed_case(run.tag),
        LIST: list_id,
    }
    server = {"version": run.target.version}
    no_url = run.no_streaming
    retry = retry_policy(run)
    excluded = fully_excluded(connections(s), run.cases, s.exclude)
    for conn in connections(s):
        reason = no_url if no_url and conn.base != "web" else missing(run, conn, tokens)
        if not reason and conn.key in excluded:
            reason = "every case it serves is excluded (--exclude)"
        if reason:
            run.skipped[conn.key] = reason
            continue
        planned = plan_meta(conn, s)
        context = conn.context(
            heartbeat_timeout_s=float(s.heartbeat_timeout_s),
            expect_events=planned.context["expect_events"],
            resolve=resolve,
            ping_timeout_s=ping_timeout(run),
        )
        context["heartbeat_tolerance_s"] = HEARTBEAT_TOLERANCE_S * float(s.timeout_multiplier)
        context["timeout_multiplier"] = run.mult  # every timing margin (judge/tolerances.py)
        if conn.base == "web" and run.streaming_fallback is not None:
            context = {**context, "streaming_fallback": run.streaming_fallback}
        meta = Meta(
            id=conn.key,
            transport=conn.transport,
            request={},
            context=context,
            server=server,
        )
        run.live[conn.key] = LiveConnection(
            conn,
            meta,
            client=client,
            http_base=run.target.streaming_base,
            web_base=run.target.base_url,
            ws_base=run.target.ws_base,
            token=resolve_token(conn.token, s, tokens),
            redactor=redactor,
            connect_timeout_s=run.seconds(10.0),
            idle_timeout_s=max(run.seconds(60.0), float(s.heartbeat_timeout_s) * 3),
            retry=retry,
            verify_tls=s.verify_tls,
        )
    # every attempt gets the usual setup bound; each retry adds its longest wait
    budget = run.seconds(30.0) + (retry.max_attempts - 1) * (retry.max_wait_s + run.seconds(10.0))
    # At most --max-connections setups in flight: the one-shot probes (refusals, health,
    # instance documents) first, then the held streams, so neither floods a small server.
    gate = asyncio.Semaphore(max(1, int(s.max_connections)))

    async def start(c: LiveConnection) -> None:
        async with gate:
            await c.start()

    for wave in (ONE_SHOT, HELD):
        chosen = [c for c in run.live.values() if (c.conn.purpose in ONE_SHOT_PURPOSES) == wave]
        await gather_bounded([start(c) for c in chosen], budget)
    for key, c in run.live.items():
        if c.setup_failure:
            run.notes.append(f"{key}: {c.setup_failure}")
        elif c.attempts > 1:
            run.notes.append(f"{key} opened after {c.attempts} attempts")
        if c.conn.purpose == "stream" and not c.is_open:
            run.notes.append(f"{key} did not open")


def mixed_case(tag: str) -> str:
    """``msc1a2b`` -> ``MsC1A2B``: every other letter upper-cased, so case matters."""
    return "".join(c.upper() if i % 2 == 0 else c for i, c in enumerate(tag))


async def subscribe(run: LiveRun) -> None:
    """Send the WS subscribe frames: the multiplexed socket and the bad-subscribe probes."""
    from conformance.ws.messages import subscribe_message

    for c in run.live.values():
        if c.conn.transport != "ws" or not c.is_open or not c.conn.subscriptions:
            continue
        for sub in c.meta.context.get("subscriptions", []):
            await c.recorder.send_text(
                subscribe_message(sub["stream"], tag=sub.get("tag"), list_id=sub.get("list"))
            )


async def gather_bounded(aws: Iterable[Awaitable[Any]], deadline_s: float) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]
    if not tasks:
        return
    try:
        _done, pending = await asyncio.wait(tasks, timeout=deadline_s)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        raise
    for task in pending:
        task.cancel()
    for task in tasks:
        try:
            await task
        except asyncio.CancelledError:
            honour_cancel()  # a child we cancelled is fine; our own cancellation is not
        except Exception as exc:  # a recorder failing to start or close is recorded, not raised
            log.debug("bounded task failed: %s", exc)


def honour_cancel() -> None:
    """Re-raise a cancellation (Ctrl-C) that a completed ``wait_for`` swallowed (Python 3.11
    returns the inner result when it finished in the same tick), so an interrupted run stops at
    the next phase boundary instead of running to the end; cleanup still runs in ``finally``."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def close_all(run: LiveRun) -> None:
    await gather_bounded([c.close() for c in run.live.values()], run.seconds(15.0))
