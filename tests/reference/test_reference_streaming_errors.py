"""The reference server refuses requests exactly as Mastodon 4.8 did in the recorded captures.

Each ``sse-err-*`` capture's request is replayed (with our tokens) and the status, Content-Type and
body must equal the recorded ones byte for byte; the plain-HTTP routes (health, preflight,
favicon) and the WebSocket handshake refusals are compared the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_reference_streaming_support import (
    Harness,
    RawHTTP,
    RawWS,
    capture_request,
    capture_tokens,
    running_harness,
    start_harness,
)

from conformance.reference.store import Store


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with running_harness() as h:
        yield h


SSE_ERRORS = [
    "sse-err-01-user-no-token",
    "sse-err-02-user-invalid-token",
    "sse-err-03-user-revoked-token",
    "sse-err-04-user-disabled-user",
    "sse-err-05-user-suspended-account",
    "sse-err-06-unknown-channel",
    "sse-err-07-unknown-channel-no-token",
    "sse-err-08-bare-streaming-path",
    "sse-err-09-hashtag-missing-tag",
    "sse-err-10-hashtag-local-missing-tag",
    "sse-err-11-list-missing-list",
    "sse-err-12-list-not-owned",
    "sse-err-13-list-nonexistent",
    "sse-err-14-list-non-numeric",
    "sse-err-15-public-scope-profile",
    "sse-err-16-public-scope-write",
    "sse-err-17-public-scope-read-notifications",
    "sse-err-18-user-notification-scope-read-statuses",
    "sse-err-19-bearer-lowercase",
    "sse-err-20-post-user",
    "sse-err-21-unknown-stream-slash",
    "sse-err-22-public-local-media-path",
    "sse-err-23-hashtag-tag-repeated",
    "sse-18-user-scope-read-notifications-only",
]
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def recorded_head(captures_dir: Path, name: str) -> tuple[int, dict[str, str]]:
    raw = (captures_dir / f"{name}.http").read_bytes().split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status_line, *lines = raw.split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split(" ")[1]), headers


async def _bob_list(h: Harness) -> None:
    """The captures' list 2 belongs to bob; make sure such a list exists here too."""
    while len(h.store.lists) < 2:
        h.store.add_list(h.bob_id, "Bob's list")
    assert h.store.list_owner("2") == h.bob_id


@pytest.mark.parametrize("name", SSE_ERRORS)
async def test_sse_error_matches_capture(harness: Harness, captures_dir: Path, name: str) -> None:
    await _bob_list(harness)
    method, target, headers = capture_request(captures_dir, name, capture_tokens(harness))
    client = await RawHTTP.request(harness.port, method, target, headers)
    body = await client.body()
    client.close()
    status, recorded = recorded_head(captures_dir, name)
    assert client.status == status
    assert client.header("Content-Type") == recorded["content-type"]
    assert body == (captures_dir / f"{name}.body.txt").read_bytes()
    assert client.header("Access-Control-Allow-Origin") == "*"
    assert UUID4.match(client.header("X-Request-Id") or "")
    if recorded.get("transfer-encoding") == "chunked":
        assert client.header("Transfer-Encoding") == "chunked"


@pytest.mark.parametrize(
    "name", ["http-01-health", "http-02-health-with-origin", "http-05-head-health"]
)
async def test_health_matches_capture(harness: Harness, captures_dir: Path, name: str) -> None:
    method, target, headers = capture_request(captures_dir, name, {})
    client = await RawHTTP.request(harness.port, method, target, headers)
    body = b"" if method == "HEAD" else await client.body()
    client.close()
    status, recorded = recorded_head(captures_dir, name)
    assert client.status == status
    for header in ("content-type", "cache-control", "access-control-allow-origin"):
        assert client.header(header) == recorded[header], header
    assert body == (captures_dir / f"{name}.body.txt").read_bytes()


async def test_preflight_matches_capture(harness: Harness, captures_dir: Path) -> None:
    name = "http-03-options-preflight-user"
    method, target, headers = capture_request(captures_dir, name, {})
    client = await RawHTTP.request(harness.port, method, target, headers)
    client.close()
    status, recorded = recorded_head(captures_dir, name)
    assert (client.status, status) == (204, 204)
    for header in (
        "access-control-allow-origin",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "vary",
    ):
        assert client.header(header) == recorded[header], header


async def test_favicon_is_empty_404_on_streaming_port(captures_dir: Path) -> None:
    h = await start_harness(split_ports=True)
    try:
        client = await RawHTTP.request(h.port, "GET", "/favicon.ico")
        assert client.status == 404
        assert await client.body() == b""
        client.close()
        other = await RawHTTP.request(h.port, "GET", "/")
        assert other.status == 400
        assert json.loads(await other.body()) == {"error": "Unknown channel requested"}
        other.close()
    finally:
        await h.server.close()


WS_REFUSALS = [
    "ws-04-no-token",
    "ws-05-invalid-token",
    "ws-06-revoked-token",
    "ws-26-authorization-wins-over-query",
    "ws-27-subprotocol-list",
    "ws-28-bad-websocket-version",
]


def recorded_ws_refusal(captures_dir: Path, name: str) -> tuple[str, dict[str, str], bytes]:
    raw = (captures_dir / f"{name}.wire.bin").read_bytes()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    return status_line, {k: v.strip() for k, _, v in (line.partition(":") for line in lines)}, body


@pytest.mark.parametrize("name", WS_REFUSALS)
async def test_ws_handshake_refusal_matches_capture(
    harness: Harness, captures_dir: Path, name: str
) -> None:
    _, target, headers = capture_request(captures_dir, name, capture_tokens(harness))
    version = dict(headers).pop("Sec-WebSocket-Version", "13")
    extra = [(k, v) for k, v in headers if k != "Sec-WebSocket-Version"]
    result = await RawWS.connect(harness.port, target, extra, version=version)
    assert isinstance(result, RawHTTP), "the upgrade must be refused"
    rest = await result.read_to_eof()  # the server closes the socket after the refusal
    status_line, recorded, body = recorded_ws_refusal(captures_dir, name)
    assert result.head_raw.split(b"\r\n", 1)[0].decode() == status_line
    ours = dict(result.headers)
    for key, value in recorded.items():
        if key == "X-Request-Id":
            assert UUID4.match(ours[key])
        else:
            assert ours.get(key) == value, key
    assert set(ours) == set(recorded), "no extra headers (no Date, no Server)"
    assert rest == body


async def test_ws_refusal_for_disabled_and_suspended_accounts() -> None:
    h = await start_harness()
    try:
        store: Store = h.store
        for attrs in ({"disabled": True}, {"suspended": True}):
            account = store.add_account(f"user{len(store.accounts)}", **attrs)
            token = h.token({"read"}, account.id)
            result = await RawWS.connect(h.port, headers=[("Sec-WebSocket-Protocol", token)])
            assert isinstance(result, RawHTTP)
            assert result.status == 401
            assert result.header("X-Error-Message") == "Invalid access token"
            result.close()
    finally:
        await h.server.close()
