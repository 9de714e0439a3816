"""Shared harness for the streaming self-tests: an in-process reference server and raw clients.

The clients are deliberately raw (asyncio streams, hand-made WebSocket frames) so the tests see
the exact bytes a Mastodon client would: chunk boundaries, ``88 00`` close frames, a TCP close
without a close frame. Every read has a deadline. This module holds no tests of its own beyond a
sanity check of the harness.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.reference.app import RunningServer, start_server
from conformance.reference.bus import Bus, MemoryBus
from conformance.reference.settings import Settings
from conformance.reference.store import Store

STEP_S = 2.0  # deadline for any single expected network step


@dataclass
class Harness:
    server: RunningServer
    store: Store
    bus: Bus
    alice_id: str
    alice_token: str
    alice_token_id: str
    bob_id: str
    bob_token: str
    alice_list: str
    carol_id: str

    @property
    def port(self) -> int:
        return int(self.server.streaming_url.rsplit(":", 1)[1])

    def token(self, scopes: set[str], account_id: str | None = None) -> str:
        return self.store.mint_token(account_id or self.alice_id, frozenset(scopes)).token

    async def publish(self, channel: str, message: Any) -> int:
        text = message if isinstance(message, str) else json.dumps(message)
        return await self.bus.publish(channel, text)


async def start_harness(bus: Bus | None = None, **overrides: Any) -> Harness:
    store = Store.seeded()
    values: dict[str, Any] = {"heartbeat_s": 15.0, "ping_interval_s": 30.0}
    values.update(overrides)
    settings = Settings(**values)
    server = await start_server(settings, store=store, bus=bus or MemoryBus(), with_web=False)
    info = store.seed_info()
    alice, bob = info["accounts"][0], info["accounts"][1]
    carol = store.find_account("carol", "remote.example")
    assert carol is not None
    alice_token = store.token_by_value(alice["token"])
    assert alice_token is not None
    return Harness(
        server=server,
        store=store,
        bus=server.bus,
        alice_id=alice["id"],
        alice_token=alice["token"],
        alice_token_id=alice_token.id,
        bob_id=bob["id"],
        bob_token=bob["token"],
        alice_list=info["lists"][0]["id"],
        carol_id=carol.id,
    )


@contextlib.asynccontextmanager
async def running_harness(**overrides: Any) -> AsyncIterator[Harness]:
    """A started harness that is always stopped; each test module wraps it in a fixture."""
    h = await start_harness(**overrides)
    try:
        yield h
    finally:
        await h.server.close()


# ----------------------------------------------------------------------------- raw HTTP / SSE


class RawHTTP:
    """One HTTP/1.1 exchange over a bare socket; the body is read chunk by chunk as framed."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.head_raw = b""

    @classmethod
    async def request(
        cls,
        port: int,
        method: str,
        target: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> RawHTTP:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), STEP_S)
        lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        lines += [f"{k}: {v}" for k, v in headers or []]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        client = cls(reader, writer)
        await client._read_head()
        return client

    async def _read_head(self) -> None:
        self.head_raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), STEP_S)
        status_line, *header_lines = self.head_raw.decode("latin-1").split("\r\n")
        self.status = int(status_line.split(" ")[1])
        self.headers = [
            (name, value.strip())
            for name, _, value in (h.partition(":") for h in header_lines if h)
        ]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    async def next_chunk(self, timeout: float = STEP_S) -> bytes:
        """The next chunk's payload; b"" for the terminating chunk."""
        size_line = await asyncio.wait_for(self.reader.readuntil(b"\r\n"), timeout)
        size = int(size_line.strip(), 16)
        data = await asyncio.wait_for(self.reader.readexactly(size + 2), timeout)
        assert data.endswith(b"\r\n"), data
        return data[:-2]

    async def body(self) -> bytes:
        """The whole body (chunked until the terminating chunk, or Content-Length)."""
        length = self.header("Content-Length")
        if length is not None:
            return await asyncio.wait_for(self.reader.readexactly(int(length)), STEP_S)
        parts = []
        while chunk := await self.next_chunk():
            parts.append(chunk)
        return b"".join(parts)

    async def read_to_eof(self, timeout: float = STEP_S) -> bytes:
        return await asyncio.wait_for(self.reader.read(), timeout)

    def close(self) -> None:
        self.writer.close()


async def open_sse(h: Harness, path: str, token: str | None = None) -> RawHTTP:
    headers = [("Accept", "text/event-stream")]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    client = await RawHTTP.request(h.port, "GET", path, headers)
    assert client.status == 200, (client.status, client.head_raw)
    assert await client.next_chunk() == b":)\n"
    return client


async def next_event(client: RawHTTP, timeout: float = STEP_S) -> tuple[str, str | None]:
    """(event name, data) of the next event, skipping heartbeats; data None without a data line."""
    while True:
        first = await client.next_chunk(timeout)
        if first.startswith(b":"):
            continue
        assert first.startswith(b"event: "), first
        if first.endswith(b"\n\n"):
            return first[7:-2].decode(), None
        second = await client.next_chunk(timeout)
        assert second.startswith(b"data: ") and second.endswith(b"\n\n"), second
        return first[7:-1].decode(), second[6:-2].decode()


# ----------------------------------------------------------------------------- raw WebSocket


@dataclass
class Frame:
    opcode: int
    payload: bytes
    header: bytes

    @property
    def text(self) -> str:
        return self.payload.decode()

    def json(self) -> Any:
        return json.loads(self.payload)


class RawWS:
    """A WebSocket client that never answers anything by itself (pings included)."""

    def __init__(self, http: RawHTTP) -> None:
        self.http = http
        self.reader = http.reader
        self.writer = http.writer

    @classmethod
    async def connect(
        cls,
        port: int,
        target: str = "/api/v1/streaming",
        headers: list[tuple[str, str]] | None = None,
        *,
        version: str = "13",
    ) -> RawHTTP | RawWS:
        key = base64.b64encode(os.urandom(16)).decode()
        all_headers = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key),
            ("Sec-WebSocket-Version", version),
            *(headers or []),
        ]
        http = await RawHTTP.request(port, "GET", target, all_headers)
        return cls(http) if http.status == 101 else http

    async def send(self, opcode: int, payload: bytes = b"") -> None:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(header + mask + masked)
        await self.writer.drain()

    async def send_text(self, text: str) -> None:
        await self.send(0x1, text.encode())

    async def send_json(self, obj: Any) -> None:
        await self.send_text(json.dumps(obj))

    async def recv(self, timeout: float = STEP_S) -> Frame:
        head = await asyncio.wait_for(self.reader.readexactly(2), timeout)
        length = head[1] & 0x7F
        extra = b""
        if length == 126:
            extra = await asyncio.wait_for(self.reader.readexactly(2), timeout)
            length = struct.unpack("!H", extra)[0]
        elif length == 127:
            extra = await asyncio.wait_for(self.reader.readexactly(8), timeout)
            length = struct.unpack("!Q", extra)[0]
        assert not head[1] & 0x80, "server frames must not be masked"
        payload = await asyncio.wait_for(self.reader.readexactly(length), timeout)
        return Frame(head[0] & 0x0F, payload, head + extra)

    async def recv_data(self, timeout: float = STEP_S) -> Frame:
        """The next text/binary/close frame, skipping pings and pongs."""
        while True:
            frame = await self.recv(timeout)
            if frame.opcode not in (0x9, 0xA):
                return frame

    async def expect_silence(self, seconds: float) -> None:
        """No data frame within ``seconds`` (a bounded negative check)."""
        try:
            frame = await self.recv_data(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame {frame}")

    async def close(self, code: int = 1000) -> None:
        with _suppress():
            await self.send(0x8, struct.pack("!H", code))
        self.writer.close()


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return exc[0] is not None and issubclass(exc[0], ConnectionError)  # type: ignore[arg-type]


async def open_ws(h: Harness, target: str = "/api/v1/streaming", token: str | None = None) -> RawWS:
    headers = [("Sec-WebSocket-Protocol", token or h.alice_token)]
    ws = await RawWS.connect(h.port, target, headers)
    assert isinstance(ws, RawWS), (ws.status, ws.head_raw)
    return ws


CAPTURE_ALICE = "109302139442357034"
CAPTURE_BOB = "109302141267381212"


def capture_tokens(h: Harness) -> dict[str, str]:
    """Our token for each fixture token the captures use (same account kind and scopes)."""
    store = h.store
    dora = store.add_account("dora", disabled=True)
    eve = store.add_account("eve", suspended=True)
    modmin = store.add_account("modmin", role_permissions=0x100000)
    revoked = store.mint_token(h.alice_id, frozenset({"read", "write", "follow", "push"}))
    store.revoke_token(revoked.token)
    return {
        "aliceTokenReadWriteFollowPush0000000000001": h.alice_token,
        "bobTokenReadWriteFollowPush000000000000002": h.bob_token,
        "aliceTokenProfileOnly0000000000000000000005": h.token({"profile"}),
        "aliceTokenReadNotificationsOnly00000000004": h.token({"read:notifications"}),
        "aliceTokenReadStatusesOnly00000000000000003": h.token({"read:statuses"}),
        "aliceTokenWriteOnly0000000000000000000000010": h.token({"write"}),
        "aliceTokenRevoked0000000000000000000000006": revoked.token,
        "doraTokenDisabledUser000000000000000000007": h.token({"read"}, dora.id),
        "eveTokenSuspendedAccount0000000000000000008": h.token({"read"}, eve.id),
        "modminTokenViewFeeds000000000000000000000009": h.token({"read"}, modmin.id),
    }


def translate(text: str, tokens: dict[str, str]) -> str:
    for theirs, ours in tokens.items():
        text = text.replace(theirs, ours)
    return text


def capture_request(
    captures_dir: Path, name: str, tokens: dict[str, str]
) -> tuple[str, str, list[tuple[str, str]]]:
    """(method, target, headers) of a capture's request with our tokens substituted."""
    request = capture_records(captures_dir, name)[0]["request"]
    headers = [(k, translate(v, tokens)) for k, v in request.get("headers", [])]
    method = request.get("method", "GET")
    return method, translate(request["path"], tokens), headers


def remap_channel(channel: str, h: Harness) -> str:
    """A capture's Redis channel name with our account and token ids."""
    channel = channel.replace(CAPTURE_ALICE, h.alice_id).replace(CAPTURE_BOB, h.bob_id)
    if channel == "timeline:access_token:1":
        return f"timeline:access_token:{h.alice_token_id}"
    return channel


def capture_records(captures_dir: Path, name: str) -> list[dict[str, Any]]:
    lines = (captures_dir / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def published(captures_dir: Path, name: str) -> list[tuple[str, str]]:
    """The (channel, exact message) pairs a capture published to Redis, in order."""
    return [
        (r["channel"], r["message"])
        for r in capture_records(captures_dir, name)
        if r.get("kind") == "redis-publish"
    ]


def capture_events(captures_dir: Path, name: str) -> list[tuple[str, str | None]]:
    """(event, data) pairs of a capture's SSE body, in order."""
    body = (captures_dir / f"{name}.body.txt").read_text(encoding="utf-8")
    events: list[tuple[str, str | None]] = []
    for block in body.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        name_line = next((line for line in lines if line.startswith("event: ")), None)
        data_line = next((line for line in lines if line.startswith("data: ")), None)
        if name_line:
            events.append((name_line[7:], data_line[6:] if data_line else None))
    return events


async def test_harness_serves_health() -> None:
    async with running_harness() as h:
        client = await RawHTTP.request(h.port, "GET", "/api/v1/streaming/health")
        assert client.status == 200
        assert await client.body() == b"OK"
        client.close()
