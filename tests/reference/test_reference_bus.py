"""The bus keeps Redis' pub/sub semantics in memory and against a real redis-server.

Both implementations must agree on what the streaming side relies on: delivery to every local
listener of a channel, PUBLISH's receiver count (one bus client, however many listeners), no
delivery after unsubscribe, and ``subscribed:<channel>`` keys with Mastodon's 1080 s lifetime.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from timing import scaled

from conformance.reference.bus import SUBSCRIBED_TTL_S, Bus, MemoryBus, RedisBus, make_bus


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    if request.param == "memory":
        instance: Bus = MemoryBus()
    else:
        instance = RedisBus(request.getfixturevalue("redis_url"))
    try:
        yield instance
    finally:
        await instance.close()


async def _wait_for(condition: object, deadline_s: float = 2.0) -> None:
    end = time.monotonic() + scaled(deadline_s)
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < end, "condition not met before the deadline"
        await asyncio.sleep(0.005)


async def test_publish_reaches_every_listener_once_and_counts_one_client(bus: Bus) -> None:
    first: list[str] = []
    second: list[str] = []
    await bus.subscribe("timeline:public", first.append)
    await bus.subscribe("timeline:public", second.append)
    await bus.subscribe("timeline:public", first.append)  # same listener twice: once
    assert await bus.publish("timeline:public", '{"event":"delete","payload":"1"}') == 1
    await _wait_for(lambda: first and second)
    assert first == second == ['{"event":"delete","payload":"1"}']


async def test_unsubscribed_channel_has_no_receivers(bus: Bus) -> None:
    got: list[str] = []
    await bus.subscribe("timeline:1", got.append)
    await bus.unsubscribe("timeline:1", got.append)
    assert await bus.publish("timeline:1", "x") == 0
    assert await bus.publish("timeline:never", "x") == 0
    await bus.subscribe("timeline:2", got.append)
    assert await bus.publish("timeline:2", "after") == 1
    await _wait_for(lambda: got)
    assert got == ["after"]


async def test_channel_stays_subscribed_while_one_listener_remains(bus: Bus) -> None:
    kept: list[str] = []
    dropped: list[str] = []
    await bus.subscribe("timeline:3", kept.append)
    await bus.subscribe("timeline:3", dropped.append)
    await bus.unsubscribe("timeline:3", dropped.append)
    assert await bus.publish("timeline:3", "still") == 1
    await _wait_for(lambda: kept)
    assert (kept, dropped) == (["still"], [])


async def test_messages_keep_publish_order_and_exact_text(bus: Bus) -> None:
    got: list[str] = []
    await bus.subscribe("timeline:4", got.append)
    messages = [
        f'{{"event":"update","payload":{{"n":{i},"t":"Café ☕ \\u003c"}}}}' for i in range(20)
    ]
    for message in messages:
        await bus.publish("timeline:4", message)
    await _wait_for(lambda: len(got) == len(messages))
    assert got == messages


async def test_mark_subscribed_sets_expiring_key(bus: Bus) -> None:
    assert not await bus.is_subscribed("timeline:5")
    await bus.mark_subscribed("timeline:5")
    assert await bus.is_subscribed("timeline:5")
    assert SUBSCRIBED_TTL_S == 1080


async def test_memory_keys_expire_after_ttl() -> None:
    now = [1000.0]
    bus = MemoryBus(clock=lambda: now[0])
    await bus.mark_subscribed("timeline:6")
    now[0] += SUBSCRIBED_TTL_S - 1
    assert await bus.is_subscribed("timeline:6")
    now[0] += 1
    assert not await bus.is_subscribed("timeline:6")


async def test_a_failing_listener_does_not_starve_the_others(bus: Bus) -> None:
    got: list[str] = []

    def broken(_message: str) -> None:
        raise RuntimeError("listener bug")

    await bus.subscribe("timeline:7", broken)
    await bus.subscribe("timeline:7", got.append)
    await bus.publish("timeline:7", "m")
    await _wait_for(lambda: got)
    assert got == ["m"]


@pytest.mark.redis
async def test_redis_key_has_mastodon_ttl_and_raw_channel_name(redis_url: str) -> None:
    import redis.asyncio as aioredis

    bus = RedisBus(redis_url)
    client = aioredis.Redis.from_url(redis_url)
    try:
        await bus.mark_subscribed("timeline:8")
        ttl = await client.ttl("subscribed:timeline:8")
        assert 1075 <= ttl <= 1080
        assert await client.get("subscribed:timeline:8") == b"1"
        got: list[str] = []
        await bus.subscribe("timeline:8", got.append)
        channels = await client.pubsub_channels()
        assert b"timeline:8" in channels
        assert await client.publish("timeline:8", "from outside") == 1  # another Redis client
        await _wait_for(lambda: got)
        assert got == ["from outside"]
        await bus.unsubscribe("timeline:8", got.append)
        await _wait_for_async(lambda: client.pubsub_numsub("timeline:8"), [(b"timeline:8", 0)])
    finally:
        await bus.close()
        await client.aclose()


async def _wait_for_async(probe: object, expected: object, deadline_s: float = 2.0) -> None:
    end = time.monotonic() + scaled(deadline_s)
    while (value := await probe()) != expected:  # type: ignore[operator]
        assert time.monotonic() < end, f"still {value!r}"
        await asyncio.sleep(0.01)


def test_make_bus_rejects_bad_configuration() -> None:
    assert isinstance(make_bus("memory"), MemoryBus)
    with pytest.raises(ValueError, match="redis-url"):
        make_bus("redis")
    with pytest.raises(ValueError, match="unknown bus"):
        make_bus("kafka")


@pytest.mark.redis
async def test_sse_stream_over_redis_bus_receives_external_publish(redis_url: str) -> None:
    """The streaming side subscribed through Redis gets what another Redis client publishes."""
    import redis.asyncio as aioredis
    from test_reference_streaming_support import next_event, open_sse, start_harness

    h = await start_harness(bus=RedisBus(redis_url))
    client = aioredis.Redis.from_url(redis_url)
    try:
        sse = await open_sse(h, "/api/v1/streaming/user", h.alice_token)
        assert await client.exists(f"subscribed:timeline:{h.alice_id}") == 1
        receivers = await client.publish(
            f"timeline:{h.alice_id}", '{"event":"delete","payload":"117693363060746879"}'
        )
        assert receivers == 1
        assert await next_event(sse) == ("delete", "117693363060746879")
        await client.publish(f"timeline:access_token:{h.alice_token_id}", '{"event":"kill"}')
        assert await sse.next_chunk() == b""
        sse.close()
    finally:
        await h.server.close()
        await client.aclose()
