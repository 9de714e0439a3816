"""End to end: a real redis-server, the reference server in ``--bus redis`` mode, the RedisDriver.

The driver publishes what Rails would; the reference server's streaming side must deliver it on
SSE exactly as Mastodon's does. This proves the messages, the channel names (incl. the remote and
media channels only Redis can feed), the ``subscribed:*`` handshake (home events are only
published once the server has marked the channel) and ``kill``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from types import SimpleNamespace

import httpx
import pytest
from timing import scaled

from conformance.config import Settings
from conformance.embedded import EmbeddedServer, start_embedded
from conformance.stimulus import base
from conformance.stimulus.redis import RedisDriver

pytestmark = pytest.mark.redis

DEADLINE_S = scaled(10.0)


@pytest.fixture(scope="module")
def server(redis_url: str) -> Iterator[EmbeddedServer]:
    started = start_embedded(heartbeat_s=1, bus="redis", redis_url=redis_url)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
async def driver(server: EmbeddedServer, redis_url: str) -> AsyncIterator[RedisDriver]:
    alice, bob = server.accounts[0], server.accounts[1]
    settings = Settings(
        target=server.url,
        token=alice.token,
        second_token=bob.token,
        stimulus="redis",
        redis_url=redis_url,
        account_id=alice.id,
        second_account_id=bob.id,
        list_id=str(server.lists[0]["id"]),
    )
    target = SimpleNamespace(base_url=server.url, is_reference=True, instance={"uri": "reference"})
    made = RedisDriver.from_settings(settings, target)
    try:
        yield made
    finally:
        await made.cleanup()


def _sse_base(server: EmbeddedServer) -> str:
    url = server.streaming_url
    return "http" + url[2:] if url.startswith("ws") else url


class SSE:
    """A minimal SSE reader for the test: events as (name, data), the end of the stream seen."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.opened = asyncio.Event()
        self.ended = asyncio.Event()
        self.changed = asyncio.Event()

    async def run(self, client: httpx.AsyncClient, url: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        event = ""
        try:
            async with client.stream("GET", url, headers=headers) as response:
                assert response.status_code == 200, response.status_code
                async for line in response.aiter_lines():
                    self.opened.set()
                    if line.startswith("event: "):
                        event = line[len("event: ") :]
                    elif line.startswith("data: "):
                        self.events.append((event, line[len("data: ") :]))
                        self.changed.set()
        finally:
            self.ended.set()
            self.opened.set()

    async def wait_for(self, predicate: Callable[[list[tuple[str, str]]], bool]) -> bool:
        deadline = time.monotonic() + DEADLINE_S
        while not predicate(self.events):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.ended.is_set():
                return predicate(self.events)
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)
        return True


@contextlib.asynccontextmanager
async def open_sse(server: EmbeddedServer, path: str, token: str) -> AsyncIterator[SSE]:
    reader = SSE()
    async with httpx.AsyncClient(timeout=httpx.Timeout(DEADLINE_S, read=None)) as client:
        task = asyncio.create_task(reader.run(client, f"{_sse_base(server)}{path}", token))
        try:
            await asyncio.wait_for(reader.opened.wait(), DEADLINE_S)
            yield reader
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _until_subscribed(driver: RedisDriver, channel: str) -> None:
    """Barrier: the server marked ``channel`` (Rails would not publish home events before)."""
    client = driver._redis
    deadline = time.monotonic() + DEADLINE_S
    while not await client.exists(f"subscribed:{channel}"):
        assert time.monotonic() < deadline, f"server never set subscribed:{channel}"
        await asyncio.sleep(0.02)


def _has_update(status_id: str) -> Callable[[list[tuple[str, str]]], bool]:
    def check(events: list[tuple[str, str]]) -> bool:
        return any(e == "update" and json.loads(d).get("id") == status_id for e, d in events)

    return check


async def test_remote_media_status_reaches_remote_media_stream(
    server: EmbeddedServer, driver: RedisDriver
) -> None:
    info = await driver.setup()
    token = server.accounts[0].token
    async with open_sse(server, "/api/v1/streaming/public/remote?only_media=true", token) as sse:
        produced = await driver.produce(base.STATUS_REMOTE_MEDIA, "msce2e", tag="msce2e")
        status_id = produced.ids["status"]
        assert await sse.wait_for(_has_update(status_id)), sse.events
    payload = json.loads(next(d for e, d in sse.events if e == "update"))
    assert payload["account"]["acct"] == info.remote_acct
    assert payload["filtered"] == []  # the streaming server appended it on a public channel
    channels = [r["channel"] for r in produced.detail["publishes"]]
    assert "timeline:public:remote:media" in channels
    receivers = {r["channel"]: r["receivers"] for r in produced.detail["publishes"]}
    assert receivers["timeline:public:remote:media"] == 1
    assert all(r.kind == "stimulus" for r in driver.records)
    assert driver.records[-1].fields["action"] == "redis-publish"


async def test_home_update_honours_subscribed_key_and_hashtag_uses_normalised_tag(
    server: EmbeddedServer, driver: RedisDriver
) -> None:
    info = await driver.setup()
    token = server.accounts[0].token
    async with (
        open_sse(server, "/api/v1/streaming/user", token) as user,
        open_sse(server, "/api/v1/streaming/hashtag?tag=%23Caf%C3%A9E2E", token) as tag,
    ):
        await _until_subscribed(driver, f"timeline:{info.a.id}")
        produced = await driver.produce(base.STATUS_PUBLIC, "msce2e", tag="CaféE2E")
        status_id = produced.ids["status"]
        assert await user.wait_for(_has_update(status_id)), user.events
        assert await tag.wait_for(_has_update(status_id)), tag.events
        deleted = await driver.produce(base.STATUS_DELETE, "msce2e", status_id=status_id)
        assert deleted.ids["status"] == status_id
        assert await user.wait_for(lambda ev: ("delete", status_id) in ev), user.events
    home = json.loads(next(d for e, d in user.events if e == "update"))
    assert home["account"]["id"] == info.b.id
    assert "favourited" in home  # rendered for the recipient


async def test_token_revoke_kills_only_the_revocable_tokens_stream(
    server: EmbeddedServer, driver: RedisDriver
) -> None:
    info = await driver.setup()
    assert driver.supports(base.TOKEN_REVOKE), driver.unsupported_reason(base.TOKEN_REVOKE)
    revocable = info.tokens["revocable"]
    async with (
        open_sse(server, "/api/v1/streaming/public", revocable) as doomed,
        open_sse(server, "/api/v1/streaming/public", server.accounts[0].token) as survivor,
    ):
        await driver.produce(base.TOKEN_REVOKE, "msce2e")
        await asyncio.wait_for(doomed.ended.wait(), DEADLINE_S)
        produced = await driver.produce(base.STATUS_REMOTE, "msce2e")
        assert await survivor.wait_for(_has_update(produced.ids["status"]))
        assert not survivor.ended.is_set()


async def test_relations_need_a_rest_api_to_live_in(server: EmbeddedServer, redis_url: str) -> None:
    """Without a REST API a mute or a block cannot exist on the target: the driver says why."""
    settings = Settings(
        stimulus="redis",
        redis_url=redis_url,
        account_id=server.accounts[0].id,
        second_account_id=server.accounts[1].id,
    )
    bare = RedisDriver.from_settings(settings, SimpleNamespace(base_url=None, is_reference=False))
    try:
        await bare.setup()
        for scenario in (base.MUTED_AUTHOR, base.BLOCKED_AUTHOR):
            assert not bare.supports(scenario)
            assert "database" in bare.unsupported_reason(scenario)
            with pytest.raises(base.ScenarioUnsupported):
                await bare.produce(scenario, "msce2e")
    finally:
        await bare.cleanup()


def _relationship(server: EmbeddedServer, account_id: str) -> dict[str, object]:
    response = httpx.get(
        f"{server.url}/api/v1/accounts/relationships",
        params={"id[]": account_id},
        headers={"Authorization": f"Bearer {server.accounts[0].token}"},
        timeout=DEADLINE_S,
    )
    response.raise_for_status()
    return dict(response.json()[0])


@pytest.mark.parametrize(
    ("scenario", "flag"), [(base.MUTED_AUTHOR, "muting"), (base.BLOCKED_AUTHOR, "blocking")]
)
async def test_relation_is_made_through_rest_and_filters_the_public_stream(
    server: EmbeddedServer, driver: RedisDriver, scenario: str, flag: str
) -> None:
    """A mutes B (blocks the remote author) through REST, the author's status is published on
    the public channels only, and A's public stream drops it while B's still gets it."""
    info = await driver.setup()
    assert driver.supports(scenario), driver.unsupported_reason(scenario)
    author = info.b.id if scenario == base.MUTED_AUTHOR else driver.fanout.cast.remote.id
    async with (
        open_sse(server, "/api/v1/streaming/public", server.accounts[0].token) as viewer,
        open_sse(server, "/api/v1/streaming/public", server.accounts[1].token) as other,
    ):
        produced = await driver.produce(scenario, "msce2e")
        status_id = produced.ids["status"]
        assert _relationship(server, author)[flag] is True
        assert await other.wait_for(_has_update(status_id)), other.events
        barrier = await driver.produce(base.STATUS_OWN, "msce2e", visibility="public")
        assert await viewer.wait_for(_has_update(barrier.ids["status"])), viewer.events
        assert not _has_update(status_id)(viewer.events), "the filtered author's status arrived"
    channels = {r["channel"] for r in produced.detail["publishes"]}
    assert channels and all(
        c.startswith(("timeline:public", "timeline:hashtag:")) for c in channels
    )
    await driver.cleanup()
    assert _relationship(server, author)[flag] is False


async def test_cleanup_deletes_only_what_the_driver_created(driver: RedisDriver) -> None:
    await driver.setup()
    created = await driver.produce(base.STATUS_PRIVATE, "msce2e")
    await driver.produce(base.FAVOURITE, "msce2e", status_id="4242")  # someone else's status
    before = len(driver.records)
    await driver.cleanup()
    deletes = [r.fields["detail"] for r in driver.records[before:]]
    assert deletes, "cleanup published nothing"
    assert {d["event"] for d in deletes} == {"delete"}
    payloads = {json.loads(d["message"])["payload"] for d in deletes}
    assert payloads == {created.ids["status"]}
    info = driver.fanout.cast
    assert [d["channel"] for d in deletes] == [
        f"timeline:{info.b.id}",
        f"timeline:{info.a.id}",
        f"timeline:list:{info.list_id}",
    ]
