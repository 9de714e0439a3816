"""The fan-out's vocabulary: who is who (``Cast``), what one scenario publishes (``Plan``).

Split from ``redis_fanout`` so the builders there stay about Rails' services; these are the plain
values they produce and consume, plus Mastodon-style ids.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.stimulus import base
from conformance.stimulus.redis_messages import encode_message
from conformance.stimulus.redis_render import Person

#: Scenarios that need relations stored in the target's database, which Redis cannot create.
NEEDS_DATABASE = {
    base.MUTED_AUTHOR: "the mute must exist in the target's database, which Redis cannot "
    "write: give --database-url",
    base.BLOCKED_AUTHOR: "the block must exist in the target's database, which Redis cannot "
    "write: give --database-url",
}


@dataclass(frozen=True, slots=True)
class Cast:
    """Who is who on the target (ids as the streaming server knows them)."""

    a: Person
    b: Person
    remote: Person
    list_id: str | None
    local_host: str

    @classmethod
    def of(
        cls,
        account_id: str,
        second_account_id: str,
        list_id: str | None = None,
        *,
        local_host: str = "mastodon.example",
        a_username: str = "alice",
        b_username: str = "bob",
        remote_id: str = "109310222451116537",
        remote_username: str = "carol",
        remote_host: str = "remote.example",
    ) -> Cast:
        return cls(
            a=Person(account_id, a_username, local_host, True, "Conformance A"),
            b=Person(second_account_id, b_username, local_host, True, "Conformance B"),
            remote=Person(remote_id, remote_username, remote_host, False, "Conformance Remote"),
            list_id=list_id,
            local_host=local_host,
        )


@dataclass(frozen=True, slots=True)
class Publish:
    """One PUBLISH: the channel and the exact message string, plus the event for bookkeeping."""

    channel: str
    message: str
    event: str


@dataclass(slots=True)
class Plan:
    """The outcome of building one scenario: what to publish and what it represents."""

    scenario: str
    marker: str
    publishes: list[Publish] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)

    def add(self, channel: str, event: str, *payload: Any) -> None:
        self.publishes.append(Publish(channel, encode_message(event, *payload), event))


class Snowflakes:
    """Mastodon-style ids: milliseconds << 16 | sequence, unique within one generator."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._seq = itertools.count(1)
        self._last = 0

    def __call__(self) -> str:
        value = (int(self._clock() * 1000) << 16) | (next(self._seq) & 0xFFFF)
        value = max(value, self._last + 1)
        self._last = value
        return str(value)


__all__ = ["NEEDS_DATABASE", "Cast", "Person", "Plan", "Publish", "Snowflakes"]
