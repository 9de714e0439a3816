"""A target URL with userinfo (``http://user:pass@host``) never turns the Bearer token into Basic.

httpx derives a Basic ``Authorization`` header from URL userinfo and lets it replace an explicit
Bearer one; websockets adds the same Basic header to an upgrade. A small server records the
``Authorization`` header of every request it gets: the REST stimulus, the Redis driver's REST
reads and every recorded SSE/WebSocket connection must send ``Bearer <token>`` to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from timing import scaled

from conformance.config import Settings
from conformance.preflight import _bearer_base
from conformance.redact import Redactor
from conformance.session.plan import connections, plan_meta
from conformance.session.recorder import LiveConnection
from conformance.stimulus.redis import RedisDriver
from conformance.stimulus.redis_cast import Cast
from conformance.stimulus.rest import RestDriver
from conformance.urls import without_userinfo

TOKEN = "tok-a-0123456789abcdef"


class AuthRecorder:
    """Answers every request ``200 {}`` and closes; keeps each request's Authorization."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []  # (request line, Authorization)
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), scaled(5))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        auth = [
            v.strip()
            for n, _, v in (x.partition(":") for x in lines[1:])
            if n.lower() == "authorization"
        ]
        self.seen.append((lines[0], ", ".join(auth) if auth else None))
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
        )
        await writer.drain()
        writer.close()

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://user:pass@127.0.0.1:{self.port}"


@pytest.fixture
async def server() -> AsyncIterator[AuthRecorder]:
    rec = AuthRecorder()
    srv = await asyncio.start_server(rec.handle, "127.0.0.1", 0)
    rec.port = srv.sockets[0].getsockname()[1]
    async with srv:
        yield rec


def test_without_userinfo_keeps_everything_else() -> None:
    assert without_userinfo("https://u:p@host:8443/a/b?x=1") == "https://host:8443/a/b?x=1"
    assert without_userinfo("wss://token@host/api/v1/streaming") == "wss://host/api/v1/streaming"
    assert without_userinfo("http://host:3000") == "http://host:3000"
    assert _bearer_base("http://u:p@host/") == "http://host"


async def test_the_rest_stimulus_sends_the_bearer_token(server: AuthRecorder) -> None:
    async with httpx.AsyncClient() as client:
        driver = RestDriver(
            client, server.url(), TOKEN, "tok-b", allow_public_posts=False, reference_extras=False
        )
        await driver._call("a", "GET", "/api/v1/accounts/verify_credentials")
    assert server.seen == [("GET /api/v1/accounts/verify_credentials HTTP/1.1", f"Bearer {TOKEN}")]


async def test_the_redis_drivers_rest_reads_send_the_bearer_token(server: AuthRecorder) -> None:
    async with httpx.AsyncClient() as http:
        driver = RedisDriver(
            None,  # type: ignore[arg-type]  # only its REST side is used
            Cast.of("1", "2"),
            http=http,
            base_url=server.url(),
            tokens=(TOKEN, "tok-b"),
        )
        await driver._get_json("/api/v1/accounts/verify_credentials", TOKEN)
    assert [auth for _line, auth in server.seen] == [f"Bearer {TOKEN}"]


@pytest.mark.parametrize("key", ["sse-user", "ws-user-auth-header", "ws-user"])
async def test_recorded_connections_send_the_bearer_token(server: AuthRecorder, key: str) -> None:
    settings = Settings(token=TOKEN)
    conn = next(c for c in connections(settings) if c.key == key)
    expected = f"Bearer {TOKEN}" if conn.auth == "header" else None  # ws-user: ?access_token=
    async with httpx.AsyncClient() as client:
        live = LiveConnection(
            conn,
            plan_meta(conn, settings),
            client=client,
            http_base=server.url(),
            ws_base=server.url("ws"),
            token=TOKEN,
            redactor=Redactor([TOKEN]),
            connect_timeout_s=scaled(5),
            idle_timeout_s=scaled(5),
        )
        await live.start()
        await live.close()
    assert server.seen, "the connection never reached the server"
    assert {auth for _line, auth in server.seen} == {expected}  # never Basic from the URL
