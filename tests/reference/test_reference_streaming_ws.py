"""WebSocket side of the reference server against the recorded Mastodon sessions.

Each replayed capture's client frames are sent and its Redis messages published in the recorded
order; the text (and pong) frames that come back must equal the recorded ones byte for byte.
Because the server handles client frames asynchronously, a barrier (an RFC 6455 ping, answered in
order after the frames before it) separates "sent" from "published".
"""

from __future__ import annotations

import base64
import itertools
import json
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from test_reference_streaming_support import (
    Harness,
    RawWS,
    capture_records,
    capture_request,
    capture_tokens,
    open_ws,
    remap_channel,
    running_harness,
    start_harness,
    translate,
)
from timing import scaled


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with running_harness() as h:
        yield h


_barriers = itertools.count()


async def barrier(ws: RawWS) -> list[tuple[int, bytes]]:
    """Return once the server has handled every frame sent before; yields the frames seen meanwhile.

    The server answers an RFC 6455 ping in order with the frames before it, so the matching pong
    proves the earlier frames were processed (whatever the token's scopes).
    """
    marker = f"barrier{next(_barriers)}".encode()
    await ws.send(0x9, marker)
    seen = []
    while True:
        frame = await ws.recv()
        if frame.opcode == 0xA and frame.payload == marker:
            return seen
        if frame.opcode != 0x9:
            seen.append((frame.opcode, frame.payload))


def _frame_bytes(record: dict[str, Any]) -> bytes:
    if record.get("data") is not None:
        return record["data"].encode()
    return base64.b64decode(record.get("data_b64") or "")


def _setup_for(name: str, h: Harness) -> None:
    if name == "ws-21-public-custom-filter":
        from conformance.reference.store import CustomFilter, FilterKeyword

        h.store.filters["21"] = CustomFilter(
            "21",
            h.alice_id,
            "TV spoilers",
            ["public"],
            "warn",
            None,
            [FilterKeyword("1", "spoilers")],
        )
    while len(h.store.lists) < 2:  # the captures' list 2 is bob's
        h.store.add_list(h.bob_id, "Bob's list")


REPLAYED = [
    "ws-01-user-subprotocol",
    "ws-02-user-authorization-header",
    "ws-03-user-query-token",
    "ws-07-any-path",
    "ws-08-multiplex-subscribe-unsubscribe",
    "ws-09-subscribe-errors-and-ignored-messages",
    "ws-10-scope-read-notifications-subscribe-public",
    "ws-11-scope-read-statuses-subscribe-user-notification",
    "ws-12-scope-profile-query-stream",
    "ws-16-duplicate-subscribe-normalized-tag",
    "ws-17-list-param-as-json-number",
    "ws-18-stream-as-array",
    "ws-19-query-stream-repeated",
    "ws-20-only-media-ignored-on-ws",
    "ws-21-public-custom-filter",
    "ws-22-direct",
    "ws-23-hashtag-query-params",
    "ws-24-list-query-params",
    "ws-25-list-not-owned-query",
    "ws-29-tag-array-500",
    "ws-30-user-payload-encoding",
]


@pytest.mark.parametrize("name", REPLAYED)
async def test_replayed_session_yields_recorded_frames(
    harness: Harness, captures_dir: Path, name: str
) -> None:
    _setup_for(name, harness)
    tokens = capture_tokens(harness)
    _, target, headers = capture_request(captures_dir, name, tokens)
    ws = await RawWS.connect(harness.port, target, headers)
    assert isinstance(ws, RawWS), "upgrade refused"
    offered = dict(headers).get("Sec-WebSocket-Protocol")
    assert ws.http.header("Sec-WebSocket-Protocol") == offered
    records = capture_records(captures_dir, name)
    expected: list[tuple[int, bytes]] = []
    got: list[tuple[int, bytes]] = []
    pending_sends = False
    for record in records:
        kind = record["kind"]
        if kind == "ws-frame-send" and record["opcode"] in ("text", "ping"):
            opcode = 0x1 if record["opcode"] == "text" else 0x9
            await ws.send(opcode, translate(_frame_bytes(record).decode(), tokens).encode())
            pending_sends = True
        elif kind == "redis-publish":
            if pending_sends:
                got += await barrier(ws)
                pending_sends = False
            await harness.publish(remap_channel(record["channel"], harness), record["message"])
        elif kind == "ws-frame-recv" and record["opcode"] in ("text", "pong"):
            expected.append((0x1 if record["opcode"] == "text" else 0xA, _frame_bytes(record)))
            if name == "ws-01-user-subprotocol" and b'"announcement.delete"' in expected[-1][1]:
                # Deliberate departure (documented API): filters_changed is delivered on user.
                expected.append((0x1, b'{"stream":["user"],"event":"filters_changed"}'))
    while len(got) < len(expected):
        frame = await ws.recv()
        if frame.opcode != 0x9:
            got.append((frame.opcode, frame.payload))
    extra = await barrier(ws)  # nothing beyond the recorded frames
    await ws.close()
    assert got == expected
    if name == "ws-08-multiplex-subscribe-unsubscribe":
        # The recording closed before its last (public:local barrier) update came back.
        assert [json.loads(data)["stream"] for _, data in extra] == [["public:local"]]
    else:
        assert extra == []


async def test_binary_frame_closes_with_1003(harness: Harness, captures_dir: Path) -> None:
    ws = await open_ws(harness)
    await ws.send(0x2, b"\x00\x01binary")
    frame = await ws.recv()
    recorded = next(
        r
        for r in capture_records(captures_dir, "ws-13-binary-message")
        if r["kind"] == "ws-frame-recv"
    )
    assert frame.opcode == 0x8
    assert frame.header.hex() == recorded["header_hex"]
    assert frame.payload == base64.b64decode(recorded["data_b64"])
    await ws.send(0x8, struct.pack("!H", 1003))
    assert await ws.http.read_to_eof() == b""


@pytest.mark.parametrize("channel_kind", ["access_token", "system"])
async def test_kill_sends_close_frame_without_code(harness: Harness, channel_kind: str) -> None:
    ws = await open_ws(harness, "/api/v1/streaming?stream=user")
    await barrier(ws)
    channel = (
        f"timeline:access_token:{harness.alice_token_id}"
        if channel_kind == "access_token"
        else f"timeline:system:{harness.alice_id}"
    )
    await harness.publish(f"timeline:{harness.alice_id}", '{"event":"delete","payload":"7"}')
    await harness.publish(channel, '{"event":"kill"}')
    first = await ws.recv_data()
    close = await ws.recv_data()
    assert first.json() == {"stream": ["user"], "event": "delete", "payload": "7"}
    assert (close.header, close.payload) == (b"\x88\x00", b"")
    await ws.send(0x8)
    assert await ws.http.read_to_eof() == b""


async def test_client_close_is_echoed_and_socket_closed(harness: Harness) -> None:
    ws = await open_ws(harness)
    await ws.send(0x8, struct.pack("!H", 1000))
    frame = await ws.recv()
    assert frame.header + frame.payload == b"\x88\x02\x03\xe8"
    assert await ws.http.read_to_eof() == b""


async def test_filters_changed_resets_cache_only_from_system_channel(harness: Harness) -> None:
    from conformance.reference.store import CustomFilter, FilterKeyword

    ws = await open_ws(harness, "/api/v1/streaming?stream=public")
    await barrier(ws)
    status = {
        "id": "1",
        "content": "<p>hello world</p>",
        "language": "en",
        "account": {"id": harness.bob_id, "username": "bob", "acct": "bob"},
        "mentions": [],
        "media_attachments": [],
    }
    update = json.dumps({"event": "update", "payload": status})
    await harness.publish("timeline:public", update)
    harness.store.filters["9"] = CustomFilter(
        "9", harness.alice_id, "Hi", ["public"], "hide", None, [FilterKeyword("1", "hello")]
    )
    await harness.publish("timeline:public", update)
    await harness.publish(f"timeline:system:{harness.alice_id}", '{"event":"filters_changed"}')
    await harness.publish("timeline:public", update)
    frames = [json.loads((await ws.recv_data()).json()["payload"]) for _ in range(3)]
    await ws.close()
    assert [f["filtered"] for f in frames[:2]] == [[], []]
    assert frames[2]["filtered"] == [
        {
            "filter": {
                "id": "9",
                "title": "Hi",
                "context": ["public"],
                "expires_at": None,
                "filter_action": "hide",
            },
            "keyword_matches": ["hello"],
            "status_matches": None,
        }
    ]


async def test_unanswered_ping_terminates_without_close_frame() -> None:
    h = await start_harness(ping_interval_s=0.2)
    try:
        silent = await open_ws(h)  # never answers pings
        polite = await open_ws(h)
        ping = await silent.recv(timeout=scaled(1.0))
        assert ping.header + ping.payload == b"\x89\x00"
        polite_ping = await polite.recv(timeout=scaled(1.0))
        assert polite_ping.opcode == 0x9
        await polite.send(0xA, polite_ping.payload)
        start = time.monotonic()
        assert await silent.http.read_to_eof(timeout=scaled(1.0)) == b"", (
            "TCP closed, no close frame"
        )
        assert time.monotonic() - start < 0.6
        second = await polite.recv(timeout=scaled(1.0))  # still alive: pinged again, not cut
        assert second.opcode == 0x9
        await polite.close()
    finally:
        await h.server.close()


async def test_error_frames_suppressed_while_ping_unanswered() -> None:
    h = await start_harness(ping_interval_s=0.3)
    try:
        ws = await open_ws(h)
        ping = await ws.recv(timeout=scaled(1.0))
        assert ping.opcode == 0x9
        await ws.send_json({"type": "subscribe", "stream": "nope"})
        await ws.expect_silence(0.1)
        await ws.send(0xA, b"")
        await ws.send_json({"type": "subscribe", "stream": "nope"})
        assert (await ws.recv_data()).json() == {"error": "Unknown stream type", "status": 400}
        await ws.close()
    finally:
        await h.server.close()


async def test_unsubscribe_removes_only_that_subscription(harness: Harness) -> None:
    ws = await open_ws(harness)
    await ws.send_json({"type": "subscribe", "stream": "public"})
    await ws.send_json({"type": "subscribe", "stream": "public:local"})
    await ws.send_json({"type": "unsubscribe", "stream": "public"})
    await barrier(ws)
    assert await harness.publish("timeline:public", '{"event":"delete","payload":"1"}') == 0
    assert await harness.publish("timeline:public:local", '{"event":"delete","payload":"2"}') == 1
    frame = (await ws.recv_data()).json()
    await ws.close()
    assert frame == {"stream": ["public:local"], "event": "delete", "payload": "2"}


async def test_websocket_upgrade_marks_subscribed_key(harness: Harness) -> None:
    ws = await open_ws(harness, "/api/v1/streaming?stream=direct")
    await barrier(ws)
    await ws.close()
    assert await harness.bus.is_subscribed(f"timeline:direct:{harness.alice_id}")
