"""Connection setup meets rate limits and refusals: retried within bounds, never the answer.

A small aiohttp server plays nginx in front of a busy instance: it answers the SSE request or
the WebSocket upgrade with 429 (or 503) a few times before it streams. Time bounds are asserted
with deadlines; the only waits are the ones the server asked for (Retry-After) or the back-off.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from timing import scaled

from conformance.config import Settings
from conformance.discovery import TargetInfo
from conformance.judge import judge_transcript
from conformance.redact import Redactor
from conformance.session import run_session
from conformance.session.plan import connections, plan_meta
from conformance.session.recorder import LiveConnection
from conformance.transcript.model import Meta, Transcript
from conformance.transports.setup_retry import (
    RetryPolicy,
    SetupProblem,
    retry_after_seconds,
    setup_problem,
)
from conformance.verdicts import Verdict

TOKEN = "msc-test-token-retry-0001"


@dataclass
class Busy:
    """What the fake answers: ``script`` (one entry per request, then ``after`` forever), where
    an entry is ``(status, retry_after or None)`` or ``"ok"``."""

    script: list[Any] = field(default_factory=list)
    after: Any = "ok"
    seen: list[float] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def next(self) -> Any:
        self.seen.append(time.monotonic())
        return self.script.pop(0) if self.script else self.after


def _refusal(step: tuple[int, str | None]) -> web.Response:
    status, retry_after = step
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return web.Response(status=status, headers=headers, text="slow down")


def _app(busy: Busy) -> web.Application:
    async def sse(request: web.Request) -> web.StreamResponse:
        step = busy.next()
        if step != "ok":
            return _refusal(step)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b":)\n\n:thump\n\n")
        await busy.stop.wait()  # held open until the test ends
        return resp

    async def ws(request: web.Request) -> web.StreamResponse:
        step = busy.next()
        if step != "ok":
            return _refusal(step)
        sock = web.WebSocketResponse()
        await sock.prepare(request)
        async for msg in sock:
            if msg.type == WSMsgType.BINARY:
                await sock.close(code=1003)
        return sock

    async def instance(_request: web.Request) -> web.Response:
        return web.json_response({"version": "4.8.0", "configuration": {"urls": {}}})

    app = web.Application()
    app.router.add_get("/api/v1/streaming", ws)
    app.router.add_get("/api/v1/streaming/{rest:.*}", sse)
    app.router.add_get("/api/v2/instance", instance)
    app.router.add_get("/api/v1/instance", instance)
    return app


@pytest.fixture
async def busy_server() -> AsyncIterator[Callable[[Busy], Any]]:
    servers: list[tuple[TestServer, Busy]] = []

    async def start(busy: Busy) -> str:
        server = TestServer(_app(busy), host="127.0.0.1")
        await server.start_server()
        servers.append((server, busy))
        return str(server.make_url("")).rstrip("/")

    yield start
    for server, busy in servers:
        busy.stop.set()
        await server.close()


def _live(key: str, base: str, client: httpx.AsyncClient, policy: RetryPolicy) -> LiveConnection:
    settings = Settings(target=base, token=TOKEN, second_token=TOKEN + "b")
    conn = next(c for c in connections(settings) if c.key == key)
    planned = plan_meta(conn, settings)
    meta = Meta(id=conn.key, transport=conn.transport, request={}, context=planned.context)
    return LiveConnection(
        conn,
        meta,
        client=client,
        http_base=base,
        ws_base=base.replace("http://", "ws://"),
        token=TOKEN,
        redactor=Redactor([TOKEN]),
        connect_timeout_s=5.0,
        idle_timeout_s=10.0,
        retry=policy,
    )


def _notes(transcript: Transcript) -> list[dict[str, Any]]:
    return [r.fields for r in transcript.records if r.kind == "note" and r.fields.get("attempt")]


FAST = RetryPolicy(max_attempts=3, max_wait_s=5.0, initial_backoff_s=0.2)


# -- pure policy ----------------------------------------------------------------------------------


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = time.time()
    assert retry_after_seconds("1") == 1.0
    assert retry_after_seconds(" 120 ") == 120.0
    assert retry_after_seconds("-3") == 0.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds(date, now=now) == pytest.approx(30.0, abs=1.0)
    assert retry_after_seconds(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0
    for bad in (None, "", "soon", "nan"):
        assert retry_after_seconds(bad) is None


def test_policy_obeys_retry_after_backs_off_and_gives_up() -> None:
    policy = RetryPolicy(max_attempts=4, max_wait_s=10.0, initial_backoff_s=1.0)
    said = SetupProblem("429 Too Many Requests", retry_after_s=3.0, retry_after_raw="3")
    silent = SetupProblem("503 Service Unavailable")
    assert policy.delay(said, 1) == 3.0
    assert [policy.delay(silent, n) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert policy.delay(silent, 4) is None  # attempts exhausted
    too_long = SetupProblem("429 Too Many Requests", retry_after_s=60.0, retry_after_raw="60")
    assert policy.delay(too_long, 1) is None  # never ask again before the server said so
    assert "exceeds the 10 s limit" in policy.give_up_message(too_long, 1)
    assert policy.give_up_message(silent, 4) == "gave up after 4 attempts: 503 Service Unavailable"
    capped = RetryPolicy(max_attempts=9, max_wait_s=5.0, initial_backoff_s=1.0)
    assert capped.delay(silent, 8) == 5.0


def _transcript(
    status: int | None, headers: list[list[str]] | None = None, **context: Any
) -> Transcript:
    t = Transcript(meta=Meta(id="x", transport="sse", request={}, context=context))
    if status is None:
        t.add(0.0, "end", how="error", detail="connect failed: ConnectError: refused")
        return t
    t.add(0.0, "connect")
    t.add(
        0.0,
        "response-head",
        status=status,
        reason="",
        http_version="HTTP/1.1",
        headers=headers or [],
    )
    return t


def test_setup_problem_tells_rate_limits_from_answers() -> None:
    limited = setup_problem(_transcript(429, [["Retry-After", "2"]]))
    assert limited is not None and limited.retry_after_s == 2.0 and limited.head is not None
    assert limited.summary == "429 Too Many Requests"
    assert setup_problem(_transcript(503)) is not None  # a proxy saying "later"
    assert setup_problem(_transcript(None)) is not None  # TCP refused before any response
    for answer in (200, 401, 404, 500):  # the server's answer: judged, never retried
        assert setup_problem(_transcript(answer)) is None
    assert setup_problem(_transcript(503, expect_status=503)) is None
    # connected, then cut: that is the server's behaviour, not setup
    cut = _transcript(None)
    cut.records.insert(0, cut.records[0].__class__(t=0.0, kind="connect"))
    assert setup_problem(cut) is None


# -- live connections against the busy fake -------------------------------------------------------


@pytest.mark.parametrize("key", ["sse-public", "ws-public"])
async def test_429_twice_then_streams(busy_server: Callable[[Busy], Any], key: str) -> None:
    busy = Busy(script=[(429, "1"), (429, "1")])
    base = await busy_server(busy)
    async with httpx.AsyncClient() as client:
        c = _live(key, base, client, FAST)
        t0 = time.monotonic()
        async with asyncio.timeout(scaled(8)):
            await c.start()
        elapsed = time.monotonic() - t0
        try:
            assert c.is_open and c.attempts == 3 and c.setup_failure is None
            assert 2.0 <= elapsed < scaled(5.0)  # two Retry-After waits of 1 s, nothing more
            assert busy.seen[1] - busy.seen[0] >= 1.0 and busy.seen[2] - busy.seen[1] >= 1.0
            transcript = c.transcript
            assert transcript is not None
            head = transcript.head
            assert head is not None and head.fields["status"] == (
                101 if key.startswith("ws") else 200
            )
            notes = _notes(transcript)
            assert [n["attempt"] for n in notes] == [1, 2]
            assert all("429" in n["text"] and "Retry-After 1 s" in n["text"] for n in notes)
            assert all(n["head"]["status"] == 429 for n in notes)  # evidence kept
            assert TOKEN not in transcript.dumps()
        finally:
            await c.close()
    judged = judge_transcript(transcript)
    assert not [r for r in judged if r.verdict in (Verdict.FAIL, Verdict.ERROR)], [
        (r.id, r.message) for r in judged if r.verdict in (Verdict.FAIL, Verdict.ERROR)
    ]


async def test_always_429_gives_up_as_error_in_bounded_time(
    busy_server: Callable[[Busy], Any],
) -> None:
    busy = Busy(after=(429, "1"))
    base = await busy_server(busy)
    async with httpx.AsyncClient() as client:
        c = _live("sse-public", base, client, FAST)
        t0 = time.monotonic()
        async with asyncio.timeout(scaled(8)):
            await c.start()
        elapsed = time.monotonic() - t0
        await c.close()
    assert len(busy.seen) == 3 and 2.0 <= elapsed < scaled(5.0)
    assert c.setup_failure == "gave up after 3 attempts: 429 Too Many Requests"
    transcript = c.transcript
    assert transcript is not None and transcript.head is None and not c.is_open
    end = transcript.end
    assert end is not None and end.fields["how"] == "error"
    assert end.fields["detail"] == c.setup_failure
    assert [n["attempt"] for n in _notes(transcript)] == [1, 2, 3]
    assert "not retried" in _notes(transcript)[-1]["text"]
    judged = judge_transcript(transcript)
    assert judged and not [r for r in judged if r.verdict is Verdict.FAIL]


async def test_retry_after_beyond_the_limit_gives_up_at_once(
    busy_server: Callable[[Busy], Any],
) -> None:
    busy = Busy(after=(429, "3600"))
    base = await busy_server(busy)
    async with httpx.AsyncClient() as client:
        c = _live("ws-public", base, client, FAST)
        async with asyncio.timeout(scaled(3)):
            await c.start()
        await c.close()
    assert len(busy.seen) == 1
    assert c.setup_failure is not None and c.setup_failure.startswith(
        "gave up after 1 attempt: 429 Too Many Requests (Retry-After 3600 s exceeds"
    )


async def test_503_without_retry_after_backs_off(busy_server: Callable[[Busy], Any]) -> None:
    busy = Busy(script=[(503, None), (503, None)])
    base = await busy_server(busy)
    policy = RetryPolicy(max_attempts=3, max_wait_s=5.0, initial_backoff_s=0.25)
    async with httpx.AsyncClient() as client:
        c = _live("sse-public", base, client, policy)
        async with asyncio.timeout(scaled(5)):
            await c.start()
        try:
            assert c.is_open and c.attempts == 3
        finally:
            await c.close()
    gaps = [b - a for a, b in zip(busy.seen, busy.seen[1:], strict=False)]
    assert gaps[0] >= 0.25 and gaps[1] >= 0.5  # 0.25 s, then doubled
    assert gaps[1] < scaled(2.0)
    transcript = c.transcript
    assert transcript is not None
    assert "no Retry-After: retrying in 0.25 s" in _notes(transcript)[0]["text"]


async def test_connect_refused_retries_then_errors(unused_tcp_port: int) -> None:
    base = f"http://127.0.0.1:{unused_tcp_port}"
    policy = RetryPolicy(max_attempts=2, max_wait_s=5.0, initial_backoff_s=0.1)
    async with httpx.AsyncClient() as client:
        sse = _live("sse-public", base, client, policy)
        ws = _live("ws-public", base, client, policy)
        async with asyncio.timeout(scaled(8)):
            await asyncio.gather(sse.start(), ws.start())
    for c in (sse, ws):
        assert c.attempts == 2
        assert c.setup_failure is not None
        assert c.setup_failure.startswith("gave up after 2 attempts: connect failed"), (
            c.setup_failure
        )


async def test_session_reports_given_up_connections_as_one_finding_not_fail(
    busy_server: Callable[[Busy], Any],
) -> None:
    base = await busy_server(Busy(after=(429, "1")))
    settings = Settings(
        target=base,
        token=TOKEN,
        second_token=TOKEN + "b",
        stimulus="none",
        heartbeat_timeout_s=1.0,
        max_setup_attempts=2,
    )
    target = TargetInfo(
        base_url=base,
        streaming_base=base,
        version="4.8.0",
        instance={"configuration": {"urls": {"streaming": base.replace("http", "ws")}}},
        is_public_host=False,
    )
    t0 = time.monotonic()
    async with asyncio.timeout(scaled(20)):
        outcome = await run_session(settings, target)
    assert time.monotonic() - t0 < scaled(10.0)
    results = outcome.results
    assert not [r.id for r in results.values() if r.verdict is Verdict.FAIL]
    # every connection given up under 429: one capacity finding, the cases not_exercised
    status = results["http.sse.status-200[sse-public]"]
    assert status.verdict is Verdict.NOT_EXERCISED
    assert status.cause == "http.concurrency.capacity"
    assert "gave up after 2 attempts: 429 Too Many Requests" in status.message
    health = [r for r in results.values() if r.id.endswith("[http-health]")]
    assert health and all(r.verdict is Verdict.NOT_EXERCISED for r in health)
    (finding,) = [r for r in outcome.extra_results if r.requirement == "http.concurrency.capacity"]
    assert finding.verdict is Verdict.WARN
    assert not [r.id for r in results.values() if r.verdict is Verdict.ERROR]
    assert any("gave up after 2 attempts" in n for n in outcome.notes)
    saved = next(t for t in outcome.transcripts if t.meta.id == "sse-public")
    assert len(_notes(saved)) == 2 and saved.head is None


async def test_setup_deadline_during_a_wait_leaves_no_429_to_judge(
    busy_server: Callable[[Busy], Any],
) -> None:
    """The runner bounds all setup; cut mid-wait, the 429 must still not read as the answer."""
    base = await busy_server(Busy(after=(429, "5")))
    async with httpx.AsyncClient() as client:
        c = _live("sse-public", base, client, FAST)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await c.start()
        await c.close()
    transcript = c.transcript
    assert transcript is not None and transcript.head is None
    assert c.setup_failure is not None and "setup deadline" in c.setup_failure
    assert not [r for r in judge_transcript(transcript) if r.verdict is Verdict.FAIL]
