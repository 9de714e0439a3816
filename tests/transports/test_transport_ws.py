"""WSRecorder against a small aiohttp WebSocket server: frames both ways, pings, refusals."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import WSMsgType, web
from timing import scaled

from conformance.transcript.model import Meta, Record, Transcript
from conformance.transports.ws import WSRecorder
from conformance.ws.messages import ErrorMessage, StreamMessage

TOKEN = "wsTestTokenThatMustNeverBeWritten00001"


def _token_of(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization")
    if auth is not None:
        return auth.removeprefix("Bearer ")
    if "access_token" in request.query:
        return request.query["access_token"]
    return request.headers.get("Sec-WebSocket-Protocol")


async def streaming(request: web.Request) -> web.StreamResponse:
    token = _token_of(request)
    if token != TOKEN:
        return web.Response(
            status=401,
            text="Invalid access token",
            headers={"X-Error-Message": "Invalid access token"},
        )
    protocols = (TOKEN,) if request.headers.get("Sec-WebSocket-Protocol") else ()
    ws = web.WebSocketResponse(protocols=protocols, autoping=False)
    await ws.prepare(request)
    echo = request.query.get("echo_token") == "1"
    await ws.send_str('{"stream":["user"],"event":"update","payload":"{}"}')
    if echo:
        await ws.send_str(f'{{"error":"token {TOKEN}","status":401}}')
    await ws.ping(b"hb")
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(scaled(10)):
            async for msg in ws:
                if msg.type is WSMsgType.PONG:
                    await ws.send_str('{"stream":["user"],"event":"pong-seen","payload":"x"}')
                elif msg.type is WSMsgType.PING:
                    await ws.pong(msg.data)
                elif msg.type is WSMsgType.TEXT and msg.data == "bye":
                    await ws.close(code=4000, message=b"bye bye")
                elif msg.type is WSMsgType.BINARY:
                    await ws.close(code=1003, message=b"no binary")
                elif msg.type is WSMsgType.TEXT:
                    await ws.send_str(msg.data)
    return ws


@pytest.fixture
async def ws_url() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/api/v1/streaming", streaming)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"ws://127.0.0.1:{port}/api/v1/streaming"
    finally:
        await runner.cleanup()


def meta(case: str) -> Meta:
    return Meta(id=case, transport="ws", request={}, context={"purpose": "stream", "case": case})


def frames(t: Transcript, kind: str, opcode: str) -> list[Record]:
    return [r for r in t.of_kind(kind) if r.fields["opcode"] == opcode]


def saw(event: str) -> Callable[[list[object]], bool]:
    return lambda items: any(isinstance(m, StreamMessage) and m.event == event for m in items)


@pytest.mark.parametrize("via", ["subprotocol", "header", "query"])
async def test_token_sources_and_ping_answered(
    ws_url: str, via: str, assert_schema_valid: Callable[[Transcript], None]
) -> None:
    ws = WSRecorder(
        ws_url,
        token=TOKEN,
        token_via=via,
        meta=meta(f"ws-{via}"),  # type: ignore[arg-type]
        open_timeout_s=5,
    )
    await ws.start()
    assert ws.status == 101
    assert await ws.wait_for(saw("pong-seen"), scaled(5))
    await ws.close()
    t = ws.transcript
    assert [r.data for r in frames(t, "ws-frame-recv", "ping")] == [b"hb"]
    assert [r.data for r in frames(t, "ws-frame-send", "pong")] == [b"hb"]
    assert isinstance(ws.items()[0], StreamMessage) and ws.items()[0].stream == ["user"]
    sent_close = frames(t, "ws-frame-send", "close")
    assert sent_close and sent_close[0].fields["close_code"] == 1000
    assert frames(t, "ws-frame-recv", "close")[0].fields["close_code"] == 1000
    assert t.end is not None and t.end.fields["how"] == "client-close"
    assert TOKEN not in t.dumps()
    if via == "subprotocol":
        assert t.header("Sec-WebSocket-Protocol") == "REDACTED"
    assert_schema_valid(t)


async def test_pongs_can_be_withheld(ws_url: str) -> None:
    ws = WSRecorder(ws_url, token=TOKEN, meta=meta("ws-nopong"), answer_pings=False)
    await ws.start()
    assert await ws.wait_for_records(
        lambda records: any(
            r.kind == "ws-frame-recv" and r.fields.get("opcode") == "ping" for r in records
        ),
        scaled(5),
    )
    assert not await ws.wait_for(saw("pong-seen"), scaled(0.3), what="pong-seen")
    await ws.close()
    t = ws.transcript
    assert frames(t, "ws-frame-send", "pong") == []
    assert any(r.kind == "note" and "pong withheld" in r.fields["text"] for r in t.records)
    assert [r.fields["wait"] for r in t.of_kind("timeout")] == ["pong-seen"]


async def test_text_binary_ping_and_server_close(ws_url: str) -> None:
    ws = WSRecorder(ws_url, token=TOKEN, meta=meta("ws-close"))
    await ws.start()
    await ws.send_text('{"type":"subscribe","stream":"public"}')
    # the echoed subscribe has "stream" but not as a list: parsed, with stream None
    assert await ws.wait_for(
        lambda items: any(
            isinstance(m, StreamMessage) and m.stream is None and m.event is None for m in items
        ),
        5,
    )
    await ws.ping(b"me")
    assert await ws.wait_for_records(
        lambda records: any(
            r.kind == "ws-frame-recv" and r.fields.get("opcode") == "pong" for r in records
        ),
        5,
    )
    await ws.send_binary(b"\x00\x01")
    assert await ws.wait_closed(5)
    t = ws.transcript
    assert [r.data for r in frames(t, "ws-frame-send", "binary")] == [b"\x00\x01"]
    assert [r.data for r in frames(t, "ws-frame-send", "ping")] == [b"me"]
    close = frames(t, "ws-frame-recv", "close")[0]
    assert (close.fields["close_code"], close.fields["close_reason"]) == (1003, "no binary")
    assert close.data == b"\x03\xebno binary"
    assert t.end is not None and t.end.fields["how"] == "eof"
    await ws.close()  # after the end: a no-op
    assert len(list(t.of_kind("end"))) == 1
    await ws.send_text("late")
    assert t.records[-1].kind == "note"


async def test_server_initiated_close_is_echoed(ws_url: str) -> None:
    ws = WSRecorder(ws_url, token=TOKEN, meta=meta("ws-bye"))
    await ws.start()
    await ws.send_text("bye")
    assert await ws.wait_closed(5)
    t = ws.transcript
    received = frames(t, "ws-frame-recv", "close")[0]
    echoed = frames(t, "ws-frame-send", "close")[0]
    assert (received.fields["close_code"], received.fields["close_reason"]) == (4000, "bye bye")
    assert echoed.data == received.data and echoed.t >= received.t
    assert t.end is not None and t.end.fields["how"] == "eof"


async def test_refused_upgrade_recorded(
    ws_url: str, assert_schema_valid: Callable[[Transcript], None]
) -> None:
    ws = WSRecorder(
        ws_url, token="wrongTokenWrongTokenWrong", token_via="header", meta=meta("ws-401")
    )
    await ws.start()
    t = ws.transcript
    assert ws.status == 401
    assert t.header("X-Error-Message") == "Invalid access token"
    assert t.body == b"Invalid access token"
    assert t.end is not None and t.end.fields["how"] == "eof"
    assert not await ws.wait_for(saw("update"), scaled(1))
    await ws.close()
    assert "wrongToken" not in t.dumps()
    assert_schema_valid(t)


async def test_frames_echoing_the_token_are_redacted(ws_url: str) -> None:
    ws = WSRecorder(f"{ws_url}?echo_token=1", token=TOKEN, token_via="query", meta=meta("echo"))
    await ws.start()
    assert await ws.wait_for(
        lambda items: any(isinstance(m, ErrorMessage) for m in items), scaled(5)
    )
    await ws.close()
    assert TOKEN not in ws.transcript.dumps()
    assert "access_token=REDACTED" in ws.transcript.meta.request["url"]
    errors = [m for m in ws.items() if isinstance(m, ErrorMessage)]
    assert errors[0].error == "token REDACTED" and errors[0].status == 401


async def test_unreachable_server_is_a_record() -> None:
    ws = WSRecorder("ws://127.0.0.1:9/nothing", token=TOKEN, meta=meta("ws-down"), open_timeout_s=2)
    await ws.start()
    end = ws.transcript.end
    assert end is not None and end.fields["how"] in {"error", "reset"}
    assert not await ws.wait_for(saw("update"), scaled(0.5))
    await ws.close()
