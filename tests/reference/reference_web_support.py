"""Harness for the web-side self-tests: the REST app on aiohttp's test server, a recording bus.

``RecordingBus`` is the real ``MemoryBus`` plus a log of every publish, so a test states which
streams are "open" with ``subscribe(...)`` (sets ``subscribed:<channel>`` as the streaming side
would) and then asserts on the exact (channel, message) pairs the web side published.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from conformance.reference.bus import MemoryBus
from conformance.reference.settings import Settings
from conformance.reference.store import Account, Store
from conformance.reference.web import setup_web

BASE_URL = "http://mastodon.test"


class RecordingBus(MemoryBus):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, str]] = []

    async def publish(self, channel: str, message: str) -> int:
        self.published.append((channel, message))
        return await super().publish(channel, message)

    def clear(self) -> None:
        self.published.clear()

    def channels(self, event: str | None = None) -> list[str]:
        return [c for c, m in self.published if event is None or json.loads(m)["event"] == event]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        return [json.loads(m) for c, m in self.published if c == channel]


@dataclass
class Harness:
    client: TestClient[web.Request, web.Application]
    store: Store
    bus: RecordingBus
    alice: Account
    bob: Account
    carol: Account
    tokens: dict[str, str]

    async def call(
        self,
        method: str,
        path: str,
        *,
        as_: str | None = "alice",
        token: str | None = None,
        json_body: Any = None,
        data: Any = None,
    ) -> tuple[int, Any]:
        headers = {}
        bearer = token if token is not None else (self.tokens[as_] if as_ else None)
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        response = await self.client.request(
            method, path, headers=headers, json=json_body, data=data
        )
        text = await response.text()
        body = json.loads(text) if text and response.content_type == "application/json" else text
        return response.status, body

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        status, body = await self.call(method, path, **kwargs)
        assert status == 200, (status, body)
        return body

    async def subscribe(self, *channels: str) -> None:
        for channel in channels:
            await self.bus.mark_subscribed(channel)

    async def post(self, text: str, *, as_: str = "alice", **fields: Any) -> dict[str, Any]:
        return await self.ok(
            "POST", "/api/v1/statuses", as_=as_, json_body={"status": text, **fields}
        )


@asynccontextmanager
async def web_harness() -> AsyncIterator[Harness]:
    store = Store.seeded()
    bus = RecordingBus()
    settings = Settings(public_url=BASE_URL, streaming_url="ws://mastodon.test")
    app = web.Application()
    setup_web(app, store=store, bus=bus, settings=settings)
    accounts = {a.username: a for a in store.accounts.values()}
    info = store.seed_info()["accounts"]
    tokens = {entry["acct"]: entry["token"] for entry in info}
    async with TestClient(TestServer(app)) as client:
        yield Harness(
            client=client,
            store=store,
            bus=bus,
            alice=accounts["alice"],
            bob=accounts["bob"],
            carol=accounts["carol"],
            tokens=tokens,
        )
