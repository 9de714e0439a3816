"""Tokens never leave the target's origin: a redirect is recorded as the observed status, never
followed, for every token source of the WebSocket upgrade and for SSE requests.

The decision (README, "Redirects"): no redirect is followed, not even to the same origin, because
a streaming endpoint that redirects is itself the finding and a followed redirect would resend
the credential. A second local listener stands in for "another host": it must see no request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from raw_ws_server import Script, serve

from conformance.transcript.model import Meta
from conformance.transports.sse import SSERecorder
from conformance.transports.ws import WSRecorder

TOKEN = "redirectTokenThatMustStayHome0000000001"


@contextlib.asynccontextmanager
async def other_host() -> AsyncIterator[tuple[int, list[bytes]]]:
    """A listener that keeps every byte anyone sends it."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            seen.append(await asyncio.wait_for(reader.read(65536), 2))
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], seen
    finally:
        server.close()


def _redirect(location: str) -> Script:
    def response(_key: str) -> bytes:
        return (f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n").encode()

    return Script(response=response, close_after=True)


def _meta(transport: str, auth: str) -> Meta:
    context = {"purpose": "stream", "stream": "user", "auth": auth, "case": "redirect"}
    return Meta(id="redirect", transport=transport, request={}, context=context)


@pytest.mark.parametrize("via", ["header", "query", "subprotocol"])
@pytest.mark.parametrize("same_origin", [False, True])
async def test_ws_upgrade_redirect_is_recorded_not_followed(via: str, same_origin: bool) -> None:
    async with other_host() as (port, seen):
        target = f"ws://127.0.0.1:{port}/api/v1/streaming?stream=user"
        script = _redirect(target)
        async with serve(script) as url:
            if same_origin:
                script.response = _redirect(url + "/elsewhere").response
            rec = WSRecorder(
                url + "?stream=user",
                token=TOKEN,
                token_via=via,
                meta=_meta("ws", via),  # type: ignore[arg-type]
            )
            await rec.start()
            await rec.close()
    assert rec.status == 302
    end = rec.transcript.end
    assert end is not None and "not followed" in end.fields["detail"]
    assert len(script.seen) == 1, "exactly one request: the redirect was not followed"
    assert seen == [], "the other host received nothing"
    assert TOKEN not in rec.transcript.dumps()


async def test_sse_redirect_is_recorded_not_followed() -> None:
    async with other_host() as (port, seen):
        script = _redirect(f"http://127.0.0.1:{port}/api/v1/streaming/user")
        async with serve(script) as url, httpx.AsyncClient() as client:
            http_url = url.replace("ws://", "http://") + "/user"
            rec = SSERecorder(
                client,
                http_url,
                headers={"Authorization": f"Bearer {TOKEN}"},
                meta=_meta("sse", "header"),
                connect_timeout_s=5.0,
                idle_timeout_s=5.0,
            )
            await rec.start()
            await rec.close()
    head = rec.transcript.head
    assert head is not None and head.fields["status"] == 302
    assert seen == []
    assert TOKEN not in rec.transcript.dumps()
