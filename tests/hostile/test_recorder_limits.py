"""SSE and HTTP recorders against hostile bodies: split tokens, endless lines, floods.

Each test serves one crafted body from a raw asyncio socket (byte-exact framing, chunked reads)
and checks the transcript: no token or half of one, bounded size, the limit recorded as a note
the offline parse turns back into a violation, the connection closed by the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from timing import scaled

from conformance.redact import Redactor
from conformance.sse.events import Violation
from conformance.sse.parser import parse_sse_transcript
from conformance.transcript.model import Meta, Record, Transcript
from conformance.transports._shared import BodyKeeper, Limits
from conformance.transports.http import record_http
from conformance.transports.sse import SSERecorder

TOKEN = "limitsTestTokenNeverWritten0001"
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
Body = Callable[[asyncio.StreamWriter], Awaitable[None]]


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


@contextlib.asynccontextmanager
async def serve(body: Body) -> AsyncIterator[str]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(HEAD)
            await body(writer)
        with contextlib.suppress(Exception):
            writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/api/v1/streaming/public"
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)


def meta(case: str, transport: str = "sse") -> Meta:
    return Meta(id=case, transport=transport, request={}, context={"purpose": "stream"})


async def record(body: Body, limits: Limits | None = None, deadline_s: float = 10.0) -> SSERecorder:
    async with serve(body) as url, httpx.AsyncClient() as client:
        sse = SSERecorder(
            client,
            url,
            headers={"Authorization": f"Bearer {TOKEN}"},
            meta=meta("hostile"),
            idle_timeout_s=5,
            limits=limits or Limits(),
        )
        await sse.start()
        await sse.wait_for(lambda _items: False, scaled(deadline_s))
        await sse.close()
    return sse


def split_token_events() -> list[tuple[bytes, bytes]]:
    raw = TOKEN.encode()
    return [
        (b'event: update\ndata: {"t":"' + raw[:cut], raw[cut:] + b'"}\n\n')
        for cut in range(len(raw) + 1)
    ]


async def test_sse_token_split_across_reads_never_written() -> None:
    async def body(writer: asyncio.StreamWriter) -> None:
        for first, second in split_token_events():
            writer.write(chunk(first))
            await writer.drain()
            await asyncio.sleep(0.002)  # separate reads on the client side
            writer.write(chunk(second))
            await writer.drain()
        writer.write(b"0\r\n\r\n")

    sse = await record(body)
    dumped = sse.transcript.dumps()
    reads = list(sse.transcript.of_kind("body-chunk"))
    assert len(reads) > len(TOKEN)  # the halves really came in separate reads
    assert TOKEN not in dumped
    assert all(TOKEN[:12] not in r.data.decode() for r in reads)
    assert all(TOKEN[-12:] not in r.data.decode() for r in reads)
    assert sse.transcript.body.count(b"REDACTED") == len(TOKEN) + 1
    events = parse_sse_transcript(sse.transcript).events
    assert len(events) == len(TOKEN) + 1
    assert all(e.data == '{"t":"REDACTED"}' for e in events)


async def test_record_http_token_split_across_reads() -> None:
    async def body(writer: asyncio.StreamWriter) -> None:
        for first, second in split_token_events()[::5]:
            writer.write(chunk(first))
            await writer.drain()
            await asyncio.sleep(0.002)
            writer.write(chunk(second))
        writer.write(b"0\r\n\r\n")

    async with serve(body) as url, httpx.AsyncClient() as client:
        transcript = await record_http(
            client, "GET", url, meta=meta("http", "http"), redactor=Redactor([TOKEN])
        )
    assert transcript.end is not None and transcript.end.fields["how"] == "eof"
    assert TOKEN not in transcript.dumps()
    reads = list(transcript.of_kind("body-chunk"))
    assert all(TOKEN[:12] not in r.data.decode() for r in reads)
    assert all(TOKEN[-12:] not in r.data.decode() for r in reads)
    assert b"REDACTED" in transcript.body


async def test_endless_line_is_cut_closed_and_judged() -> None:
    async def body(writer: asyncio.StreamWriter) -> None:
        writer.write(chunk(b":)\nevent: update\ndata: "))
        while True:
            writer.write(chunk(b"a" * 65536))
            await writer.drain()

    limits = Limits(keep_head_bytes=32 << 10, keep_tail_bytes=8 << 10, max_line_bytes=256 << 10)
    sse = await record(body, limits)
    t = sse.transcript
    assert sse.limit_hit is not None and sse.limit_hit.startswith("line-too-long")
    assert t.end is not None and t.end.fields["how"] == "client-close"
    assert "limit: line-too-long" in t.end.fields["detail"]
    assert len(t.body) <= (32 << 10) + (8 << 10)
    gap = [r for r in t.of_kind("note") if "gap_bytes" in r.fields]
    assert len(gap) == 1 and gap[0].fields["gap_bytes"] > 0
    kinds = {v.kind for v in parse_sse_transcript(t).violations}
    assert {"line-too-long", "transcript-gap"} <= kinds
    assert any(isinstance(i, Violation) and i.kind == "line-too-long" for i in sse.items())
    times = [r.t for r in t.records]
    assert times == sorted(times)


async def test_event_flood_is_closed_at_the_event_limit() -> None:
    async def body(writer: asyncio.StreamWriter) -> None:
        while True:
            writer.write(chunk(b'event: update\ndata: {"id":"1"}\n\n' * 200))
            await writer.drain()

    sse = await record(body, Limits(max_events=500))
    assert sse.limit_hit is not None and sse.limit_hit.startswith("too-many-events")
    assert len([i for i in sse.items() if not isinstance(i, Violation)]) <= 500
    assert "too-many-events" in {v.kind for v in parse_sse_transcript(sse.transcript).violations}


async def test_comment_flood_is_closed_at_the_comment_limit() -> None:
    async def body(writer: asyncio.StreamWriter) -> None:
        while True:
            writer.write(chunk(b":thump\n" * 1000))
            await writer.drain()

    sse = await record(body, Limits(max_comments=3000))
    assert sse.limit_hit is not None and sse.limit_hit.startswith("too-many-comments")


def test_body_keeper_keeps_head_and_tail_in_time_order() -> None:
    t = Transcript(meta=meta("keeper"))
    keeper = BodyKeeper(t, Limits(keep_head_bytes=10, keep_tail_bytes=6, keep_reads=100))
    t.add(0.0, "connect")
    for i in range(10):
        keeper.add(1.0 + i, bytes([65 + i]) * 4)
        if i == 5:
            t.add(6.5, "timeout", wait="x", deadline_s=1.0)
    keeper.settle()
    t.add(20.0, "end", how="eof", detail="")
    kinds = [r.kind for r in t.records]
    assert t.body == b"AAAABBBBCC" + b"II" + b"JJJJ"
    assert kinds[:6] == ["connect", "body-chunk", "body-chunk", "body-chunk", "note", "timeout"]
    gap: Record = t.records[4]
    assert gap.t == 3.0  # the first read not wholly kept
    assert gap.fields["gap_bytes"] == 40 - 10 - 6
    times = [r.t for r in t.records]
    assert times == sorted(times)
    assert kinds[-1] == "end"


def test_gap_note_keeps_head_and_tail_apart() -> None:
    """Parsing a gapped transcript never glues the head's last line to the tail's first."""
    t = Transcript(meta=meta("gap"))
    t.add(0.0, "body-chunk", data=b'event: update\ndata: {"a":')
    t.add(0.1, "note", text="transcript gap", gap_bytes=100, gap_reads=2)
    t.add(0.2, "body-chunk", data=b"1}\n\nevent: delete\ndata: 7\n\n")
    t.add(0.3, "end", how="eof", detail="")
    parse = parse_sse_transcript(t)
    assert [(e.event, e.data) for e in parse.events] == [("delete", "7")]
    assert "transcript-gap" in {v.kind for v in parse.violations}
