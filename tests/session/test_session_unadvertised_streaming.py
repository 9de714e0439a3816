"""Targets that advertise no streaming URL: stream from the origin if it answers, else say why.

Fake instance servers (aiohttp) whose instance documents name no streaming URL: one serves the
streaming API at its own origin (as Mastodon does behind nginx), one does not stream at all.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from timing import scaled

from conformance.config import Settings
from conformance.discovery import discover
from conformance.reports.summary import exit_status
from conformance.session import run_session
from conformance.session.capabilities import NO_STREAMING_URL
from conformance.verdicts import Verdict

TOKEN = "msc-test-token-unadvertised-01"
V2 = {"version": "4.8.0", "uri": "quiet.example", "configuration": {"urls": {}}}
V1 = {"version": "4.8.0", "uri": "quiet.example", "urls": {"streaming_api": None}}


def _app(streams: bool, stop: asyncio.Event) -> web.Application:
    def doc(body: Any) -> Callable[[web.Request], Any]:
        async def handle(_request: web.Request) -> web.Response:
            return web.json_response(body)

        return handle

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="OK")

    async def sse(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "private, no-store"}
        )
        await resp.prepare(request)
        await resp.write(b":)\n\n:thump\n\n")
        await stop.wait()  # held open until the test ends
        return resp

    async def ws(request: web.Request) -> web.StreamResponse:
        sock = web.WebSocketResponse()
        await sock.prepare(request)
        async for msg in sock:
            if msg.type == WSMsgType.BINARY:
                await sock.close(code=1003)
        return sock

    app = web.Application()
    app.router.add_get("/api/v2/instance", doc(V2))
    app.router.add_get("/api/v1/instance", doc(V1))
    if streams:
        app.router.add_get("/api/v1/streaming/health", health)
        app.router.add_get("/api/v1/streaming", ws)
        app.router.add_get("/api/v1/streaming/{rest:.*}", sse)
    return app


@pytest.fixture
async def instance() -> AsyncIterator[Callable[[bool], Any]]:
    servers: list[TestServer] = []
    stop = asyncio.Event()

    async def start(streams: bool) -> str:
        server = TestServer(_app(streams, stop), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    stop.set()
    for server in servers:
        await server.close()


def _settings(base: str) -> Settings:
    return Settings(
        target=base,
        token=TOKEN,
        second_token=TOKEN + "b",
        stimulus="none",
        heartbeat_timeout_s=1.0,
        timeout_multiplier=0.3,
    )


async def test_no_streaming_anywhere_is_not_exercised_and_exits_0(
    instance: Callable[[bool], Any],
) -> None:
    base = await instance(False)
    settings = _settings(base)
    target = await discover(settings)
    assert target.streaming_advertised is False and target.streaming_base == base
    t0 = time.monotonic()
    with pytest.warns(UserWarning, match="none found at"):
        async with asyncio.timeout(scaled(20)):
            outcome = await run_session(settings, target)
    assert time.monotonic() - t0 < scaled(10.0)
    results = outcome.results
    expected = f"{NO_STREAMING_URL} and none found at {base}"
    stream_cases = [r for r in results.values() if r.transport in ("sse", "ws")]
    assert stream_cases
    for r in stream_cases:
        assert r.verdict is Verdict.NOT_EXERCISED, (r.id, r.verdict, r.message)
    heartbeat = results["sse.heartbeat.within-timeout[sse-user]"]
    assert heartbeat.message.startswith(f"sse-user not opened: {expected}")
    assert not [r for r in results.values() if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    assert exit_status(list(results.values())) == 0
    # nothing was stimulated, and the instance documents were still read and judged
    assert outcome.stimuli is not None
    assert any(expected in n for n in outcome.notes)
    form = results["discovery.streaming-url.form[http-instance-v2]"]
    assert form.verdict is Verdict.NOT_EXERCISED and "advertises no streaming URL" in form.message


async def test_streaming_at_the_origin_runs_and_warns_on_discovery(
    instance: Callable[[bool], Any],
) -> None:
    base = await instance(True)
    settings = _settings(base)
    target = await discover(settings)
    assert target.streaming_advertised is False
    async with asyncio.timeout(scaled(30)):
        outcome = await run_session(settings, target)
    results = outcome.results
    assert results["http.sse.status-200[sse-public]"].verdict is Verdict.PASS
    assert results["http.health.status-ok[http-health]"].verdict is Verdict.PASS
    for doc in ("v2", "v1"):
        form = results[f"discovery.streaming-url.form[http-instance-{doc}]"]
        assert form.verdict is Verdict.WARN, (form.verdict, form.message)  # a SHOULD
        assert f"/api/{doc}/instance advertises none" in form.message
        assert f"{base}/api/v1/streaming/health answers 200" in form.message
        assert "Tuba" in form.message
    saved = {t.meta.id: t for t in outcome.transcripts}
    assert saved["http-instance-v2"].meta.context["streaming_fallback"] == {
        "origin": base,
        "health_status": 200,
    }
    assert "streaming_fallback" not in saved["sse-public"].meta.context


@pytest.mark.slow  # a whole `run` in a subprocess: about 15 s on 2 cores
async def test_cli_run_explains_and_exits_0(instance: Callable[[bool], Any], tmp_path: Any) -> None:
    """The whole front end: exit status 0 (not 2) and the reason printed."""
    base = await instance(False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSC_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "conformance",
        "run",
        "--target",
        base,
        "--stimulus",
        "none",
        "--anonymous",  # the crafted server issues no tokens: a token-less audit, asked for
        "--heartbeat-timeout",
        "1",
        "--report-dir",
        str(tmp_path / "report"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    async with asyncio.timeout(scaled(60)):
        out, _ = await proc.communicate()
    text = out.decode("utf-8", "replace")
    assert proc.returncode == 0, text[-3000:]
    assert f"{NO_STREAMING_URL} and none found at {base}" in text
    # the one-line explanation (pytest's warnings summary), besides every skip reason
    assert f"UserWarning: mastodon-streaming-conformance: {NO_STREAMING_URL} and none" in text
