"""The message bus between the web side and the streaming side: Mastodon's Redis pub/sub, or a copy.

Rails publishes ``{"event","payload"}`` JSON strings to channels such as ``timeline:<id>``; the
streaming server subscribes per channel and keeps ``subscribed:<channel>`` keys alive so Rails
knows whom to publish home, list and notification events to. ``MemoryBus`` reproduces that inside
one process; ``RedisBus`` does it against a real Redis exactly as ``streaming/index.js`` does (one
SUBSCRIBE per channel, shared by every local listener of that channel).

``publish`` returns what Redis' PUBLISH returns: the number of *bus clients* that received the
message. The streaming side is one client, so the answer is 1 when at least one local listener
holds the channel, however many connections share it, and 0 otherwise (as in the captures'
``receivers``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

log = logging.getLogger(__name__)

Callback = Callable[[str], None]

#: Mastodon's ``subscribed:<channel>`` lifetime in seconds (streaming/index.js, ``:274-288``).
SUBSCRIBED_TTL_S = 1080
SUBSCRIBED_PREFIX = "subscribed:"


@runtime_checkable
class Bus(Protocol):
    async def publish(self, channel: str, message: str) -> int: ...

    async def subscribe(self, channel: str, callback: Callback) -> None: ...

    async def unsubscribe(self, channel: str, callback: Callback) -> None: ...

    async def mark_subscribed(self, channel: str) -> None: ...

    async def is_subscribed(self, channel: str) -> bool: ...

    async def close(self) -> None: ...


class _Listeners:
    """Channel -> callbacks, in subscription order; a callback registered twice counts once."""

    def __init__(self) -> None:
        self._by_channel: dict[str, list[Callback]] = {}

    def add(self, channel: str, callback: Callback) -> bool:
        """Register; True when the channel had no listener before (the bus must SUBSCRIBE)."""
        callbacks = self._by_channel.setdefault(channel, [])
        first = not callbacks
        if callback not in callbacks:
            callbacks.append(callback)
        return first

    def remove(self, channel: str, callback: Callback) -> bool:
        """Unregister; True when the channel has no listener left (the bus may UNSUBSCRIBE)."""
        callbacks = self._by_channel.get(channel)
        if not callbacks:
            return False
        with contextlib.suppress(ValueError):
            callbacks.remove(callback)
        if callbacks:
            return False
        del self._by_channel[channel]
        return True

    def has(self, channel: str) -> bool:
        return bool(self._by_channel.get(channel))

    def channels(self) -> list[str]:
        return list(self._by_channel)

    def dispatch(self, channel: str, message: str) -> None:
        # Copy: a callback may unsubscribe (e.g. ``kill``) while we iterate.
        for callback in list(self._by_channel.get(channel, ())):
            try:
                callback(message)
            except Exception:  # one broken listener must not starve the others
                log.exception("bus listener failed on %s", channel)


class MemoryBus:
    """In-process pub/sub with Redis' delivery semantics and expiring ``subscribed:`` keys."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._listeners = _Listeners()
        self._keys: dict[str, float] = {}
        self._clock = clock

    async def publish(self, channel: str, message: str) -> int:
        if not self._listeners.has(channel):
            return 0
        self._listeners.dispatch(channel, message)
        return 1

    async def subscribe(self, channel: str, callback: Callback) -> None:
        self._listeners.add(channel, callback)

    async def unsubscribe(self, channel: str, callback: Callback) -> None:
        self._listeners.remove(channel, callback)

    async def mark_subscribed(self, channel: str) -> None:
        self._keys[SUBSCRIBED_PREFIX + channel] = self._clock() + SUBSCRIBED_TTL_S

    async def is_subscribed(self, channel: str) -> bool:
        expiry = self._keys.get(SUBSCRIBED_PREFIX + channel)
        if expiry is None:
            return False
        if expiry <= self._clock():
            del self._keys[SUBSCRIBED_PREFIX + channel]
            return False
        return True

    def subscribed_ttl(self, channel: str) -> float | None:
        """Seconds left on ``subscribed:<channel>`` (None if absent); for self-tests."""
        expiry = self._keys.get(SUBSCRIBED_PREFIX + channel)
        if expiry is None:
            return None
        left = expiry - self._clock()
        return left if left > 0 else None

    def active_channels(self) -> list[str]:
        """Channels with at least one listener, like Redis' ``PUBSUB CHANNELS``."""
        return self._listeners.channels()

    async def close(self) -> None:
        self._listeners = _Listeners()


class RedisBus:
    """Mastodon's Redis wiring: one command connection, one pub/sub connection.

    A SUBSCRIBE is confirmed before ``subscribe`` returns, so an event published right after a
    stream opened is not lost (the real server has that race; a reference must not).
    """

    def __init__(self, url: str, *, subscribe_timeout_s: float = 5.0) -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.Redis.from_url(url)
        self._pubsub: Any = self._redis.pubsub()
        self._listeners = _Listeners()
        self._pending: dict[str, list[asyncio.Future[None]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._subscribe_timeout_s = subscribe_timeout_s
        self._lock = asyncio.Lock()

    async def publish(self, channel: str, message: str) -> int:
        return int(await self._redis.publish(channel, message))

    async def subscribe(self, channel: str, callback: Callback) -> None:
        async with self._lock:
            first = self._listeners.add(channel, callback)
            if not first:
                return
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._pending.setdefault(channel, []).append(future)
            await self._pubsub.subscribe(channel)
            self._ensure_reader()
        try:
            await asyncio.wait_for(asyncio.shield(future), self._subscribe_timeout_s)
        except TimeoutError:
            log.warning("no SUBSCRIBE confirmation for %s", channel)

    async def unsubscribe(self, channel: str, callback: Callback) -> None:
        async with self._lock:
            if self._listeners.remove(channel, callback):
                await self._pubsub.unsubscribe(channel)

    async def mark_subscribed(self, channel: str) -> None:
        await self._redis.set(SUBSCRIBED_PREFIX + channel, "1", ex=SUBSCRIBED_TTL_S)

    async def is_subscribed(self, channel: str) -> bool:
        return bool(await self._redis.exists(SUBSCRIBED_PREFIX + channel))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._redis.aclose()

    def _ensure_reader(self) -> None:
        self._wake.set()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read_loop())

    async def _read_loop(self) -> None:
        while True:
            if not self._pubsub.subscribed:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("redis pub/sub read failed")
                await asyncio.sleep(0.1)
                continue
            if message is not None:
                self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        channel = _text(message.get("channel"))
        if kind == "subscribe":
            for future in self._pending.pop(channel, []):
                if not future.done():
                    future.set_result(None)
        elif kind == "message":
            self._listeners.dispatch(channel, _text(message.get("data")))


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is None else str(value)


def make_bus(kind: str, redis_url: str | None = None) -> Bus:
    if kind == "memory":
        return MemoryBus()
    if kind == "redis":
        if not redis_url:
            raise ValueError("--bus redis needs --redis-url")
        return RedisBus(redis_url)
    raise ValueError(f"unknown bus kind {kind!r} (memory, redis)")
