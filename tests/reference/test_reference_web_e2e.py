"""Both halves together over real sockets: REST stimulus in, SSE events out.

The point is the seam: what the web side publishes is what the streaming side can deliver, and
the streamed payload equals the REST render for the same viewer (plus ``filtered`` on public).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from timing import scaled

from conformance.reference.app import start_server
from conformance.reference.settings import Settings
from conformance.reference.store import Store

DEADLINE_S = scaled(5.0)


@asynccontextmanager
async def _server() -> AsyncIterator[dict[str, Any]]:
    server = await start_server(Settings(), store=Store.seeded())
    try:
        yield server.startup_line()
    finally:
        await server.close()


async def _next_event(lines: AsyncIterator[str], wanted: str) -> Any:
    """Reads SSE lines until an event named ``wanted``; returns its decoded data."""
    event = None
    async for line in lines:
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: ") and event == wanted:
            return json.loads(line[len("data: ") :])
    raise AssertionError(f"stream ended before {wanted}")


async def test_public_stream_delivers_the_rest_status_with_filtered_appended() -> None:
    async with _server() as info, httpx.AsyncClient(base_url=info["url"], timeout=DEADLINE_S) as c:
        alice, bob = info["accounts"]
        auth_a = {"Authorization": f"Bearer {alice['token']}"}
        auth_b = {"Authorization": f"Bearer {bob['token']}"}
        async with c.stream("GET", "/api/v1/streaming/public/local", headers=auth_b) as stream:
            assert stream.status_code == 200
            posted = await c.post("/api/v1/statuses", headers=auth_a, json={"status": "e2e #Test"})
            assert posted.status_code == 200
            lines = stream.aiter_lines()
            payload = await asyncio.wait_for(_next_event(lines, "update"), DEADLINE_S)
        anonymous = (await c.get(f"/api/v1/statuses/{posted.json()['id']}")).json()
        assert payload == {**anonymous, "filtered": []}


async def test_user_stream_gets_home_update_equal_to_the_rest_render() -> None:
    async with _server() as info, httpx.AsyncClient(base_url=info["url"], timeout=DEADLINE_S) as c:
        alice, bob = info["accounts"]
        auth_a = {"Authorization": f"Bearer {alice['token']}"}
        auth_b = {"Authorization": f"Bearer {bob['token']}"}
        assert (await c.post(f"/api/v1/accounts/{alice['id']}/follow", headers=auth_b)).is_success
        async with c.stream("GET", "/api/v1/streaming/user", headers=auth_b) as stream:
            posted = await c.post(
                "/api/v1/statuses", headers=auth_a, json={"status": "home", "visibility": "private"}
            )
            lines = stream.aiter_lines()
            payload = await asyncio.wait_for(_next_event(lines, "update"), DEADLINE_S)
        shown = (await c.get(f"/api/v1/statuses/{posted.json()['id']}", headers=auth_b)).json()
        assert payload == shown and payload["filtered"] == []
