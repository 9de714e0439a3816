"""``python -m conformance.reference serve`` as the suite runs it: a subprocess and one JSON line.

Checks the start-up line's shape, that the advertised URLs serve SSE, that ``--split-ports``
redirects ``/api/v1/streaming`` from the REST port with path and query kept, that a status posted
through the REST API reaches a stream, and that SIGTERM ends the process cleanly with exit 0.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from test_reference_streaming_support import RawHTTP, next_event
from timing import scaled

START_DEADLINE_S = 15.0


class ServeProcess:
    def __init__(self, proc: asyncio.subprocess.Process, line: dict[str, Any]) -> None:
        self.proc = proc
        self.line = line

    @staticmethod
    def port(url: str) -> int:
        return int(url.rsplit(":", 1)[1])

    async def stop(self) -> tuple[int, bytes]:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rest, _ = await asyncio.wait_for(self.proc.communicate(), scaled(10.0))
        except TimeoutError:
            self.proc.kill()
            raise
        return self.proc.returncode or 0, rest


async def start_serve(*args: str) -> ServeProcess:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "conformance.reference",
        "serve",
        "--port",
        "0",
        *args,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    try:
        raw = await asyncio.wait_for(proc.stdout.readline(), START_DEADLINE_S)
    except TimeoutError:
        proc.kill()
        raise
    assert raw.endswith(b"\n"), f"no start-up line (exit {proc.returncode})"
    return ServeProcess(proc, json.loads(raw))


@pytest.fixture
async def served() -> AsyncIterator[ServeProcess]:
    process = await start_serve("--heartbeat", "0.2")
    try:
        yield process
    finally:
        if process.proc.returncode is None:
            await process.stop()


async def test_startup_line_shape_and_clean_sigterm(served: ServeProcess) -> None:
    line = served.line
    assert set(line) == {"url", "streaming_url", "accounts", "lists"}
    assert line["url"].startswith("http://127.0.0.1:")
    assert line["streaming_url"] == "ws://127.0.0.1:" + line["url"].rsplit(":", 1)[1]
    alice, bob = line["accounts"]
    assert (alice["acct"], bob["acct"]) == ("alice", "bob")
    assert all(set(a) == {"id", "acct", "token"} and a["token"] for a in line["accounts"])
    assert line["lists"] == [{"id": line["lists"][0]["id"], "owner_id": alice["id"]}]
    sse = await RawHTTP.request(
        served.port(line["url"]),
        "GET",
        "/api/v1/streaming/user",
        [("Authorization", f"Bearer {alice['token']}")],
    )
    assert sse.status == 200
    assert await sse.next_chunk() == b":)\n"
    assert await sse.next_chunk(timeout=scaled(1.0)) == b":thump\n\n"
    code, rest = await served.stop()
    sse.close()
    assert code == 0
    assert rest == b"", "exactly one line on stdout"


async def test_status_posted_over_rest_reaches_public_stream(served: ServeProcess) -> None:
    line = served.line
    alice = line["accounts"][0]
    port = served.port(line["url"])
    sse = await RawHTTP.request(
        port,
        "GET",
        "/api/v1/streaming/public/local",
        [("Authorization", f"Bearer {alice['token']}")],
    )
    assert await sse.next_chunk() == b":)\n"
    async with httpx.AsyncClient(base_url=line["url"], timeout=scaled(5.0)) as client:
        response = await client.post(
            "/api/v1/statuses",
            headers={"Authorization": f"Bearer {alice['token']}"},
            json={"status": "streaming end to end", "visibility": "public"},
        )
    assert response.status_code == 200, response.text
    event, data = await next_event(sse)
    sse.close()
    assert event == "update"
    assert data is not None
    payload = json.loads(data)
    assert payload["id"] == response.json()["id"]
    assert payload["filtered"] == []


async def test_split_ports_redirects_streaming_path_from_rest_port() -> None:
    process = await start_serve("--split-ports")
    try:
        line = process.line
        rest_port = process.port(line["url"])
        stream_port = process.port(line["streaming_url"])
        assert rest_port != stream_port
        async with httpx.AsyncClient(timeout=scaled(5.0)) as client:
            target = "/api/v1/streaming/hashtag?tag=Caf%C3%A9&x=1"
            moved = await client.get(f"{line['url']}{target}")
            bare = await client.get(f"{line['url']}/api/v1/streaming")
            health = await client.get(f"http://127.0.0.1:{stream_port}/api/v1/streaming/health")
        assert moved.status_code == 301
        assert moved.headers["Location"] == f"http://127.0.0.1:{stream_port}{target}"
        assert bare.status_code == 301
        assert bare.headers["Location"] == f"http://127.0.0.1:{stream_port}/api/v1/streaming"
        assert (health.status_code, health.text) == (200, "OK")
    finally:
        code, _ = await process.stop()
    assert code == 0


async def test_bad_arguments_fail_before_printing() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "conformance.reference",
        "serve",
        "--bus",
        "redis",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), START_DEADLINE_S)
    assert proc.returncode != 0
    assert out == b""
    assert b"--redis-url" in err
