"""From a bus message to "send this event" (``streamFrom`` and the system-channel listener).

A stream listener parses the ``{"event","payload"}`` string, drops what Mastodon drops (no event,
falsy payload, not JSON), filters public/hashtag statuses, encodes object payloads with V8's rules
and hands ``(event, encoded payload)`` to the transport. The one deliberate departure from
Mastodon 4.8: a payload-less ``filters_changed`` is delivered (payload ``ABSENT``) as the API
documentation describes, instead of being dropped.

The system listener (``timeline:access_token:<id>``, ``timeline:system:<account id>``) only acts:
``kill`` ends the connection, ``filters_changed`` resets the connection's keyword-filter cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import faults
from .channels import ChannelPlan
from .encoding import NotJSON, js_truthy, parse, stringify
from .filtering import FeedAccess, FilterCache, filter_status

log = logging.getLogger(__name__)


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


#: The payload of an event delivered without one (``filters_changed``).
ABSENT: Any = _Absent()

#: ``output(event, payload)``: payload is a str, a number/bool passed through, or ABSENT.
Output = Callable[[Any, Any], None]

FILTERED_EVENTS = frozenset({"update", "status.update"})


@dataclass
class Viewer:
    """The authenticated connection as the listeners need it."""

    info: Any  # TokenInfo
    store: Any
    filters: FilterCache = field(default_factory=FilterCache)

    @property
    def account_id(self) -> str:
        return str(self.info.account_id)

    @property
    def token_id(self) -> str:
        return str(self.info.token_id)

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.info.scopes)


def decode_message(raw: str) -> tuple[Any, Any] | None:
    """(event, payload) of a bus message, or None when it is not a JSON object."""
    try:
        message = parse(raw)
    except NotJSON:
        return None
    if not isinstance(message, dict):
        return None
    return message.get("event"), message.get("payload")


def encode_payload(payload: Any) -> Any:
    """``typeof payload === 'object' ? JSON.stringify(payload) : payload``."""
    if isinstance(payload, dict | list):
        return stringify(payload)
    return payload


def make_stream_listener(
    plan: ChannelPlan, viewer: Viewer, output: Output
) -> Callable[[str], None]:
    output = faults.under_load(output)  # FAULT drop-above / delay-above (identity without)
    output = faults.late(output)  # FAULT late-conversation (identity without)
    access = (
        FeedAccess.for_stream(viewer.store, plan.name, int(viewer.info.permissions or 0))
        if plan.needs_filtering
        else None
    )

    poisoned: set[str] = set()

    def listener(raw: str) -> None:
        decoded = decode_message(raw)
        if decoded is None:
            return
        event, payload = decoded
        if not js_truthy(event):
            return
        if faults.current() and event not in poisoned:  # FAULT foreign-*: once per stream
            for foreign_event, foreign in faults.foreign_traffic(plan.name, event, payload):
                poisoned.add(event)
                output(foreign_event, encode_payload(foreign))
        if not js_truthy(payload):
            if event == "filters_changed":
                output(event, ABSENT)
            return
        if access is not None and event in FILTERED_EVENTS:
            payload = filter_status(
                payload,
                store=viewer.store,
                viewer_id=viewer.account_id,
                chosen_languages=viewer.info.chosen_languages,
                access=access,
                cache=viewer.filters,
            )
            if payload is None:
                return
        if event == "update" and faults.active("renamed-update"):  # FAULT
            event = "status_update"
        output(event, encode_payload(payload))

    return listener


def make_system_listener(viewer: Viewer, on_kill: Callable[[], None]) -> Callable[[str], None]:
    def listener(raw: str) -> None:
        decoded = decode_message(raw)
        if decoded is None:
            return
        event = decoded[0]
        if event == "kill":
            on_kill()
        elif event == "filters_changed":
            viewer.filters.reset()

    return listener


def system_channels(viewer: Viewer) -> tuple[str, str]:
    return (f"timeline:access_token:{viewer.token_id}", f"timeline:system:{viewer.account_id}")


class SubscriptionHeartbeat:
    """``subscriptionHeartbeat``: SET ``subscribed:<channel>`` now and every refresh period."""

    def __init__(self, bus: Any, channels: tuple[str, ...], refresh_s: float) -> None:
        self._bus = bus
        self._channels = channels
        self._refresh_s = refresh_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        faults.subscribed(+1)  # FAULT drop-above / delay-above count subscriptions
        await self._tell()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _tell(self) -> None:
        for channel in self._channels:
            try:
                await self._bus.mark_subscribed(channel)
            except Exception:
                log.exception("could not mark %s subscribed", channel)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            await self._tell()

    def stop(self) -> None:
        if self._task is not None:
            faults.subscribed(-1)  # FAULT drop-above / delay-above count subscriptions
            self._task.cancel()
            self._task = None


async def subscribe_all(
    bus: Any, channels: tuple[str, ...], listener: Callable[[str], None]
) -> None:
    for channel in channels:
        await bus.subscribe(channel, listener)


async def unsubscribe_all(
    bus: Any, channels: tuple[str, ...], listener: Callable[[str], None]
) -> None:
    for channel in channels:
        with contextlib.suppress(Exception):
            await bus.unsubscribe(channel, listener)
