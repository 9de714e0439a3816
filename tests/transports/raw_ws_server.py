"""A raw asyncio WebSocket server for self-tests: it answers the upgrade and then sends exactly
the bytes a test asks for, so each RFC 6455 violation can be produced on a real socket.

``frame()`` builds any frame, legal or not (reserved opcodes and bits, masks, oversized control
frames); ``serve(script)`` runs a server whose every connection gets the handshake response from
``script.response(key)`` followed by ``script.frames``. It records what it received (``seen``)
so redirect tests can show that no token reached it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_for(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = None,
    length: int | None = None,
) -> bytes:
    """One frame with any header bits; ``length`` overrides the announced length."""
    size = len(payload) if length is None else length
    out = bytearray([(0x80 if fin else 0) | (rsv & 7) << 4 | (opcode & 0xF)])
    mask_bit = 0x80 if mask is not None else 0
    if size < 126:
        out.append(mask_bit | size)
    elif size < 1 << 16:
        out.append(mask_bit | 126)
        out += size.to_bytes(2, "big")
    else:
        out.append(mask_bit | 127)
        out += size.to_bytes(8, "big")
    if mask is not None:
        out += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes(out + payload)


def text(data: str | bytes, **kwargs: object) -> bytes:
    return frame(0x1, data.encode() if isinstance(data, str) else data, **kwargs)  # type: ignore[arg-type]


EVENT = '{"stream":["user"],"event":"delete","payload":"1"}'


def switching(key: str, *, accept: str | None = None, extra: str = "") -> bytes:
    value = accept_for(key) if accept is None else accept
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {value}\r\n{extra}\r\n"
    ).encode()


@dataclass
class Script:
    """What the server sends: a handshake response built from the client's key, then frames."""

    frames: bytes = b""
    response: Callable[[str], bytes] = switching
    close_after: bool = False
    seen: list[bytes] = field(default_factory=list)


async def _handle(
    script: Script, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        script.seen.append(head)
        key = ""
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-key":
                key = value.strip()
        writer.write(script.response(key) + script.frames)
        await writer.drain()
        if script.close_after:
            writer.close()
            return
        # Keep reading (pongs) until the client's close frame (0x88 first) or its EOF.
        while data := await asyncio.wait_for(reader.read(65536), 10):
            if b"\x88" in data[:1]:
                break
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@contextlib.asynccontextmanager
async def serve(script: Script) -> AsyncIterator[str]:
    """``ws://127.0.0.1:PORT/api/v1/streaming`` served by ``script``."""
    server = await asyncio.start_server(lambda r, w: _handle(script, r, w), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/api/v1/streaming"
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)
