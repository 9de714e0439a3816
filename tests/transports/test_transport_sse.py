"""SSERecorder and record_http against small raw-socket servers with byte-exact framing."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable, Sequence

import httpx
from timing import scaled
from transport_servers import chunk, raw_server, read_request_head

from conformance.redact import Redactor
from conformance.sse.events import Comment, Event, SSEItem
from conformance.transcript.model import Meta, Transcript
from conformance.transports.http import record_http
from conformance.transports.sse import SSERecorder

TOKEN = "sseTestTokenThatMustNeverBeWritten0001"
SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nX-B: 1\r\nContent-Type: text/event-stream\r\nx-a: 2\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


def meta(case: str) -> Meta:
    return Meta(
        id=case,
        transport="sse",
        request={},
        context={"purpose": "stream", "stream": "user", "case": case},
    )


def has_event(name: str) -> Callable[[Sequence[SSEItem]], bool]:
    def check(items: Sequence[SSEItem]) -> bool:
        return any(isinstance(i, Event) and i.event == name for i in items)

    return check


async def test_chunks_recorded_parsed_and_clean_eof(
    assert_schema_valid: Callable[[Transcript], None],
) -> None:
    release = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request_head(reader)
        writer.write(SSE_HEAD + chunk(b":)\n"))
        await writer.drain()
        await release.wait()
        writer.write(chunk(b"event: update\n"))
        await writer.drain()
        writer.write(chunk(b"data: {}\n\n") + b"0\r\n\r\n")
        await writer.drain()

    async with raw_server(handler) as port, httpx.AsyncClient() as client:
        sse = SSERecorder(
            client,
            f"http://127.0.0.1:{port}/api/v1/streaming/user",
            headers={"Authorization": f"Bearer {TOKEN}"},
            meta=meta("sse-eof"),
            idle_timeout_s=5,
            redactor=Redactor(["someOtherSecretValue"]),
        )
        await sse.start()
        assert sse.status == 200
        assert await sse.wait_for(
            lambda items: any(isinstance(i, Comment) for i in items), scaled(5)
        )
        release.set()
        assert await sse.wait_for(has_event("update"), scaled(5))
        assert await sse.wait_for(lambda items: sse.ended, scaled(5)) or sse.ended
        await sse.close()
    t = sse.transcript
    assert t.end is not None and t.end.fields["how"] == "eof"
    assert [r.data for r in t.of_kind("body-chunk")] == [
        b":)\n",
        b"event: update\n",
        b"data: {}\n\n",
    ]
    assert t.head is not None
    assert t.head.fields["headers"][:3] == [
        ["X-B", "1"],
        ["Content-Type", "text/event-stream"],
        ["x-a", "2"],
    ]
    times = [r.t for r in t.records]
    assert times == sorted(times) and t.records[0].kind == "connect"
    items = sse.items()
    assert [type(i).__name__ for i in items] == ["Comment", "Event"]
    assert TOKEN not in t.dumps()
    assert "Bearer REDACTED" in t.dumps()
    assert_schema_valid(t)


async def test_server_dies_mid_chunk_is_incomplete() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request_head(reader)
        writer.write(SSE_HEAD + chunk(b":)\n") + b"e\r\nevent: up")
        await writer.drain()
        writer.close()

    async with raw_server(handler) as port, httpx.AsyncClient() as client:
        sse = SSERecorder(
            client, f"http://127.0.0.1:{port}/", meta=meta("sse-cut"), idle_timeout_s=5
        )
        await sse.start()
        assert not await sse.wait_for(has_event("update"), scaled(5))
        await sse.close()
    t = sse.transcript
    assert t.end is not None and t.end.fields["how"] == "incomplete", t.end
    assert [i.kind for i in sse.items() if not isinstance(i, Comment | Event)] in (
        [],
        ["unterminated-event"],
    )


async def test_server_closes_between_chunks_is_incomplete() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request_head(reader)
        writer.write(SSE_HEAD + chunk(b":)\n"))
        await writer.drain()
        writer.close()

    async with raw_server(handler) as port, httpx.AsyncClient() as client:
        sse = SSERecorder(
            client, f"http://127.0.0.1:{port}/", meta=meta("sse-crash"), idle_timeout_s=5
        )
        await sse.start()
        await sse.wait_for(lambda items: False, scaled(5), what="the end")
        await sse.close()
    assert sse.transcript.end is not None
    assert sse.transcript.end.fields["how"] == "incomplete"
    assert not list(sse.transcript.of_kind("timeout"))  # ended before the deadline


async def test_connection_reset_is_recorded() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request_head(reader)
        writer.write(SSE_HEAD + chunk(b":)\n"))
        await writer.drain()
        await asyncio.sleep(0.05)  # let the client read the head before the RST
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async with raw_server(handler) as port, httpx.AsyncClient() as client:
        sse = SSERecorder(
            client, f"http://127.0.0.1:{port}/", meta=meta("sse-reset"), idle_timeout_s=5
        )
        await sse.start()
        await sse.wait_for(lambda items: False, scaled(5))
        await sse.close()
    end = sse.transcript.end
    assert end is not None and end.fields["how"] == "reset", end


async def test_refused_request_recorded_with_body(
    assert_schema_valid: Callable[[Transcript], None],
) -> None:
    body = b'{"error":"Missing access token"}'

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request_head(reader)
        writer.write(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunk(body) + b"0\r\n\r\n"
        )
        await writer.drain()

    async with raw_server(handler) as port, httpx.AsyncClient() as client:
        sse = SSERecorder(
            client,
            f"http://127.0.0.1:{port}/?access_token={TOKEN}",
            meta=meta("sse-401"),
            idle_timeout_s=5,
        )
        await sse.start()
        assert sse.status == 401
        await sse.wait_for(lambda items: False, scaled(5))
        await sse.close()
    t = sse.transcript
    assert t.body == body
    assert t.end is not None and t.end.fields["how"] == "eof"
    assert TOKEN not in t.dumps() and "access_token=REDACTED" in t.meta.request["url"]
    assert_schema_valid(t)


async def test_idle_timeout_and_wait_deadline() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request_head(reader)
        writer.write(SSE_HEAD + chunk(b":)\n"))
        await writer.drain()
        await asyncio.sleep(30)

    async with raw_server(handler) as port, httpx.AsyncClient() as client:
        sse = SSERecorder(
            client, f"http://127.0.0.1:{port}/", meta=meta("sse-idle"), idle_timeout_s=0.6
        )
        await sse.start()
        assert not await sse.wait_for(has_event("update"), 0.2, what="update event")
        timeouts = list(sse.transcript.of_kind("timeout"))
        assert [r.fields["wait"] for r in timeouts] == ["update event"]
        assert not sse.ended
        assert not await sse.wait_for(has_event("update"), scaled(5))
        await sse.close()
    end = sse.transcript.end
    assert end is not None and end.fields["how"] == "deadline"
    assert "idle timeout" in end.fields["detail"]
    assert end.t < scaled(3)


async def test_client_close_mid_stream() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request_head(reader)
        writer.write(SSE_HEAD + chunk(b":)\n") + chunk(b"event: update\n"))
        await writer.drain()
        await asyncio.sleep(30)

    async with raw_server(handler) as port, httpx.AsyncClient() as client:
        sse = SSERecorder(
            client, f"http://127.0.0.1:{port}/", meta=meta("sse-close"), idle_timeout_s=5
        )
        await sse.start()
        await sse.wait_for(lambda items: bool(items), scaled(5))
        await sse.close()
        await sse.close()  # idempotent
    ends = list(sse.transcript.of_kind("end"))
    assert [e.fields["how"] for e in ends] == ["client-close"]
    assert [v.kind for v in sse.items() if not isinstance(v, Comment | Event)] == [
        "unterminated-event"
    ]


async def test_connection_refused_is_a_record() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    async with httpx.AsyncClient() as client:
        sse = SSERecorder(
            client, f"http://127.0.0.1:{port}/", meta=meta("sse-refused"), connect_timeout_s=2
        )
        await sse.start()
        assert not await sse.wait_for(has_event("update"), scaled(1))
        await sse.close()
        transcript = await record_http(
            client, "GET", f"http://127.0.0.1:{port}/", meta=meta("http-refused"), deadline_s=2
        )
    for t in (sse.transcript, transcript):
        assert t.end is not None and t.end.fields["how"] == "error"
        assert "connect" in t.end.fields["detail"]


async def test_record_http_plain_and_head(
    assert_schema_valid: Callable[[Transcript], None],
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await read_request_head(reader)
            if head.startswith(b"HEAD"):
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n"
                )
            else:
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK"
                )
            await writer.drain()

    url = ""
    async with raw_server(handler) as port, httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{port}/api/v1/streaming/health"
        get = await record_http(client, "GET", url, meta=meta("health"), deadline_s=5)
        head = await record_http(client, "HEAD", url, meta=meta("head"), deadline_s=5)
    assert get.body == b"OK" and get.header("content-type") == "text/plain"
    assert head.body == b"" and head.meta.request["method"] == "HEAD"
    for t in (get, head):
        assert t.end is not None and t.end.fields["how"] == "eof"
        assert_schema_valid(t)


async def test_record_http_deadline() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request_head(reader)
        await asyncio.sleep(30)

    async with raw_server(handler) as port, httpx.AsyncClient() as client:
        t = await record_http(
            client, "GET", f"http://127.0.0.1:{port}/", meta=meta("slow"), deadline_s=0.3
        )
    assert t.end is not None and t.end.fields["how"] == "deadline"
