"""A deliberately hostile Mastodon streaming server: one raw-asyncio server, one mode per behaviour.

The suite must survive the servers it is meant to expose (issue: bounded resources). Discovery
(``/api/v1|v2/instance``) answers sanely so a run reaches the streams, except in
``redirect-loop`` where every path redirects to itself. Every streaming request (SSE paths, the
health check, the WebSocket upgrade) gets the mode's behaviour; in the ``ws-*`` modes the SSE
paths answer a plain heartbeat stream and only the upgrade is hostile.

Run: ``python tests/hostile/hostile_server.py --mode NAME`` -> prints ``{"url": ...}`` and
serves until killed. ``MODES`` lists the names with what each does.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import socket
import struct
import sys

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
BLOCK = 64 << 10

MODES: dict[str, str] = {
    "silence": "accept the request, never answer",
    "trickle": "a 200 event-stream head, then one byte every 50 ms",
    "endless-line": "a data: line that never ends, at full speed",
    "huge-event": "one 64 MiB event (64 KiB data: lines), then heartbeats",
    "event-flood": "small update events at full speed, forever",
    "comment-flood": "comment lines at full speed, forever",
    "redirect-loop": "every path (discovery too) answers 302 to itself",
    "json-bomb": "update events whose payload nests 200,000 levels deep",
    "invalid-utf8": "events with invalid UTF-8 bytes",
    "nul-bytes": "events with NUL bytes in names and data",
    "broken-chunked": "chunked body with a malformed chunk size",
    "header-flood": "a response head that never ends (header lines forever)",
    "rst": "a 200 head, half an event, then a TCP reset",
    "ws-ping-flood": "after the upgrade, ping frames at full speed",
    "ws-endless-fragments": "a text message whose continuation frames never end",
    "ws-oversized-frame": "a frame announcing 2**40 payload bytes, then data forever",
    "ws-reserved-opcode": "a frame with the reserved opcode 0x3",
}

SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
    b"Connection: close\r\n\r\n"
)
CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


class Hostile:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.base = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        _method, _, rest = lines[0].partition(" ")
        path = rest.partition(" ")[0]
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (line.partition(":") for line in lines[1:] if ":" in line)
        }
        try:
            await self.answer(path.partition("?")[0], path, headers, reader, writer)
        except (ConnectionError, asyncio.CancelledError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def answer(
        self,
        route: str,
        path: str,
        headers: dict[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        if self.mode == "redirect-loop":
            writer.write(
                f"HTTP/1.1 302 Found\r\nLocation: {self.base}{path}\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            await writer.drain()
            return
        if route in {"/api/v1/instance", "/api/v2/instance"}:
            await self.instance(writer)
            return
        if not route.startswith("/api/v1/streaming"):
            body = b'{"error":"Record not found"}'
            writer.write(
                b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            return
        upgrade = headers.get("upgrade", "").lower() == "websocket"
        if self.mode.startswith("ws-"):
            if upgrade:
                await self.ws(headers, reader, writer)
            else:
                await self.heartbeats(writer, SSE_HEAD)
            return
        await getattr(self, "sse_" + self.mode.replace("-", "_"))(writer)

    async def instance(self, writer: asyncio.StreamWriter) -> None:
        ws_base = self.base.replace("http://", "ws://")
        doc = {
            "uri": "hostile.test",
            "domain": "hostile.test",
            "version": "4.8.0",
            "urls": {"streaming_api": ws_base},
            "configuration": {"urls": {"streaming": ws_base}},
        }
        body = json.dumps(doc).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()

    async def heartbeats(self, writer: asyncio.StreamWriter, head: bytes) -> None:
        writer.write(head + b":)\n")
        while True:
            writer.write(b":thump\n")
            await writer.drain()
            await asyncio.sleep(0.5)

    async def forever(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        while True:
            writer.write(data)
            await writer.drain()

    # -- SSE / HTTP modes ----------------------------------------------------------------------

    async def sse_silence(self, writer: asyncio.StreamWriter) -> None:
        await asyncio.Event().wait()

    async def sse_trickle(self, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD)
        payload = b'event: update\ndata: {"id":"1"}\n\n:thump\n' * 1000
        for byte in payload:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)

    async def sse_endless_line(self, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + b":)\nevent: update\ndata: ")
        await self.forever(writer, b"a" * BLOCK)

    async def sse_huge_event(self, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + b":)\nevent: update\n")
        line = b"data: " + b"b" * (BLOCK - 7) + b"\n"
        for _ in range(1024):
            writer.write(line)
            await writer.drain()
        writer.write(b"\n")
        await self.heartbeats(writer, b"")

    async def sse_event_flood(self, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + b":)\n")
        await self.forever(writer, b'event: update\ndata: {"id":"1"}\n\n' * 2000)

    async def sse_comment_flood(self, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD)
        await self.forever(writer, b":thump\n" * 8000)

    async def sse_redirect_loop(self, writer: asyncio.StreamWriter) -> None:
        raise AssertionError("handled in answer()")  # pragma: no cover

    async def sse_json_bomb(self, writer: asyncio.StreamWriter) -> None:
        depth = 200_000
        writer.write(SSE_HEAD + b":)\n")
        writer.write(b"event: update\ndata: " + b"[" * depth + b"]" * depth + b"\n\n")
        writer.write(b"event: update\ndata: " + b'{"a":' * depth + b"1" + b"}" * depth + b"\n\n")
        await self.heartbeats(writer, b"")

    async def sse_invalid_utf8(self, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + b':\xff\xfe)\nevent: upd\xc3\x28te\ndata: {"a":"\xff"}\n\n')
        await self.heartbeats(writer, b"")

    async def sse_nul_bytes(self, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + b':\x00\nevent: up\x00date\ndata: {"a":"\x00"}\nid: \x00\n\n')
        await self.heartbeats(writer, b"")

    async def sse_broken_chunked(self, writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED_HEAD + b"3\r\n:)\n\r\nzz\r\nnot a chunk\r\n")
        await writer.drain()
        await asyncio.Event().wait()

    async def sse_header_flood(self, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n")
        await self.forever(writer, b"X-Flood: " + b"f" * 100 + b"\r\n")

    async def sse_rst(self, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + b':)\nevent: update\ndata: {"id":')
        await writer.drain()
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    # -- WebSocket modes -----------------------------------------------------------------------

    async def ws(
        self, headers: dict[str, str], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        key = headers.get("sec-websocket-key", "").encode()
        accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
        protocol = headers.get("sec-websocket-protocol", "").split(",")[0].strip()
        extra = f"Sec-WebSocket-Protocol: {protocol}\r\n" if protocol else ""
        writer.write(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n".encode()
        )
        drain = asyncio.create_task(_discard(reader))
        try:
            await getattr(self, "ws_" + self.mode[3:].replace("-", "_"))(writer)
        finally:
            drain.cancel()

    async def ws_ping_flood(self, writer: asyncio.StreamWriter) -> None:
        await self.forever(writer, _frame(0x9, b"p", fin=True) * 8000)

    async def ws_endless_fragments(self, writer: asyncio.StreamWriter) -> None:
        writer.write(_frame(0x1, b'{"event":"update","payload":"', fin=False))
        await self.forever(writer, _frame(0x0, b"x" * 1024, fin=False) * 64)

    async def ws_oversized_frame(self, writer: asyncio.StreamWriter) -> None:
        writer.write(bytes([0x81, 127]) + struct.pack("!Q", 1 << 40))
        await self.forever(writer, b"y" * BLOCK)

    async def ws_reserved_opcode(self, writer: asyncio.StreamWriter) -> None:
        writer.write(_frame(0x3, b"reserved", fin=True))
        await self.heartbeats_ws(writer)

    async def heartbeats_ws(self, writer: asyncio.StreamWriter) -> None:
        while True:
            await writer.drain()
            await asyncio.sleep(0.5)


def _frame(opcode: int, payload: bytes, *, fin: bool) -> bytes:
    """An unmasked server frame (payload under 64 KiB)."""
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        return bytes([first, n]) + payload
    return bytes([first, 126]) + struct.pack("!H", n) + payload


async def _discard(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(Exception):
        while await reader.read(BLOCK):
            pass


async def serve(mode: str, host: str, port: int) -> None:
    hostile = Hostile(mode)
    server = await asyncio.start_server(hostile.handle, host, port, limit=1 << 16)
    bound = server.sockets[0].getsockname()[1]
    hostile.base = f"http://{host}:{bound}"
    print(json.dumps({"url": hostile.base, "mode": mode}), flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", required=True, choices=sorted(MODES))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.mode, args.host, args.port))
    sys.exit(0)


if __name__ == "__main__":
    main()
