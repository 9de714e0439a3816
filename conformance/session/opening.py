"""Connection lifecycle: prepare every planned connection (or say why not), open them within
the ``--max-connections`` bound (``batches.OpenSlots``), send the WebSocket subscriptions, close
them; bounded gathers that honour Ctrl-C."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx

from conformance.judge.heartbeat import HEARTBEAT_TOLERANCE_S
from conformance.matrix.cases import PlannedCase
from conformance.matrix.streams import LIST, MIXED_TAG, OTHER_TAG, TAG
from conformance.redact import Redactor
from conformance.selection import id_glob, matches_any
from conformance.session.batches import OpenSlots
from conformance.session.keepalive import ping_timeout
from conformance.session.plan import Connection, connections, plan_meta
from conformance.session.recorder import LiveConnection, resolve_token
from conformance.session.setup import missing, retry_policy
from conformance.session.state import LiveRun
from conformance.transcript.model import Meta

log = logging.getLogger(__name__)

#: Purposes whose connection is one request and its answer (opened before the held streams).
ONE_SHOT_PURPOSES = frozenset({"error", "health", "http"})
#: The requirements judged on a ``revocable`` connection (its own cases are named for ``*-user``).
REVOCATION_CASES = frozenset({"delivery.token-revoke.ends-stream"})
#: Handshakes in flight at once (whatever --max-connections allows to be open).
SETUPS_IN_FLIGHT = 20
#: How long a probe the server accepted instead of refusing may take to end before we close it.
PROBE_GRACE_S = 2.0


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
        if conn.role == "revocable":  # only the revocation cases read it; they name ``sse-user``
            base = conn.key.removesuffix("-revocable")
            served = [c for p, c in params if p == base and c.requirement in REVOCATION_CASES]
            if served and all(matches_any(globs, c.id, c.requirement) for c in served):
                out.add(conn.key)
            continue
        served = [c for p, c in params if p == conn.key or p.startswith(conn.key + "-")]
        if served and all(matches_any(globs, c.id, c.requirement) for c in served):
            out.add(conn.key)
    return out


def prepare_connections(
    run: LiveRun, client: httpx.AsyncClient, redactor: Redactor, tokens: dict[str, str]
) -> dict[str, Callable[[], LiveConnection]]:
    """For every connection the run opens, a factory of its ``LiveConnection`` (called once a
    slot is free, so its transcript's start time is its real start); the others go to
    ``run.skipped`` with the reason."""
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
    out: dict[str, Callable[[], LiveConnection]] = {}
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
        out[conn.key] = functools.partial(
            LiveConnection,
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
    return out


def is_one_shot(conn: Connection) -> bool:
    """A connection that is one request and its answer (refusal probes, health, documents)."""
    return conn.purpose in ONE_SHOT_PURPOSES


def setup_budget(run: LiveRun) -> float:
    """Every attempt gets the usual setup bound; each retry adds its longest wait."""
    retry = retry_policy(run)
    return run.seconds(30.0) + (retry.max_attempts - 1) * (retry.max_wait_s + run.seconds(10.0))


async def open_connections(
    run: LiveRun,
    factories: dict[str, Callable[[], LiveConnection]],
    keys: Iterable[str],
    slots: OpenSlots,
    *,
    one_shot: bool = False,
) -> None:
    """Open ``keys`` (in order: a slot is taken before each connects), at most
    ``SETUPS_IN_FLIGHT`` handshakes at once. A held stream keeps its slot until
    ``close_connections``; a one-shot probe gives it back once answered (one the server
    wrongly accepted is given ``PROBE_GRACE_S`` to end, then closed), so probes never hold
    the bound."""
    keys = list(keys)
    gate = asyncio.Semaphore(SETUPS_IN_FLIGHT)

    async def start(key: str) -> None:
        await slots.take()
        c = run.live[key] = factories[key]()
        run.slot_holders.add(key)
        async with gate:
            await c.start()
        if c.transcript is not None and c.transcript.end is not None:
            release(run, key, slots)
        elif one_shot:
            if c.recorder is not None and hasattr(c.recorder, "wait_closed"):
                await c.recorder.wait_closed(run.seconds(PROBE_GRACE_S))
            await c.close()
            release(run, key, slots)

    await gather_bounded([start(k) for k in keys], setup_budget(run))
    for key in keys:
        c = run.live.get(key)
        if c is None:
            continue
        if c.setup_failure:
            run.notes.append(f"{key}: {c.setup_failure}")
        elif c.attempts > 1:
            run.notes.append(f"{key} opened after {c.attempts} attempts")
        if c.conn.purpose == "stream" and not c.is_open:
            run.notes.append(f"{key} did not open")


def release(run: LiveRun, key: str, slots: OpenSlots) -> None:
    """Give back ``key``'s slot (once)."""
    if key in run.slot_holders:
        run.slot_holders.discard(key)
        slots.give()


async def close_connections(run: LiveRun, keys: Iterable[str], slots: OpenSlots) -> None:
    """Close ``keys`` (bounded) and give their slots back."""
    keys = [k for k in keys if k in run.live]
    await gather_bounded([run.live[k].close() for k in keys], run.seconds(15.0))
    for key in keys:
        release(run, key, slots)


def mixed_case(tag: str) -> str:
    """``msc1a2b`` -> ``MsC1A2B``: every other letter upper-cased, so case matters."""
    return "".join(c.upper() if i % 2 == 0 else c for i, c in enumerate(tag))


async def subscribe(run: LiveRun) -> None:
    """Send the WS subscribe frames: the multiplexed socket and the bad-subscribe probes."""
    from conformance.ws.messages import subscribe_message

    for c in list(run.live.values()):  # probes may still be joining
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
    """Close whatever is still open (the run's ``finally``: an error or Ctrl-C mid-batch)."""
    await gather_bounded([c.close() for c in run.live.values()], run.seconds(15.0))
