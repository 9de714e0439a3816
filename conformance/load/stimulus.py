"""Load stimuli through the suite's own drivers (``conformance.stimulus``): one public status
with a fresh marker per stimulus, paced at ``--rate`` per second, cleaned up at the end.

The REST driver (``--stimulus rest``) posts as the second account, which the first account
follows, so each status reaches ``public``, ``hashtag`` (the run's tag) and the first account's
``user`` stream; the Redis driver (``--stimulus redis``) publishes the same fan-out that Rails
would. Either way the driver's undo ledger deletes every status on ``close()``, as after a
normal run. The send time written into each marker is read just before the driver call, so the
measured latency includes the server's own handling of the stimulus.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.load.marker import make_marker
from conformance.stimulus.base import STATUS_PUBLIC, Driver, StimulusError

__all__ = ["LoadStimulus", "Produced", "build_driver"]


@dataclass(frozen=True)
class Produced:
    seq: int
    sent_us: int
    took_s: float


def build_driver(settings: Any, target: Any, tag: str, client: httpx.AsyncClient) -> Driver:
    """The REST or Redis driver for ``settings`` (``conformance.config.Settings``)."""
    if settings.stimulus == "redis":
        from conformance.stimulus.redis import RedisDriver

        return RedisDriver.from_settings(settings, target, tag=tag)
    if not (settings.token and settings.second_token):
        raise StimulusError("the REST stimulus needs --token and --second-token")
    from conformance.stimulus.rest import RestDriver

    return RestDriver(
        client,
        target.base_url,
        settings.token,
        settings.second_token,
        allow_public_posts=True,  # load.safety has already confirmed the target
        reference_extras=bool(target.is_reference),
        list_id=settings.list_id,
        tag=tag,
        request_timeout_s=10.0 * float(settings.timeout_multiplier),
    )


@dataclass
class LoadStimulus:
    """Warm-up and measured stimuli of one run (sequence numbers are unique per run)."""

    driver: Driver
    run_id: str
    tag: str
    produced: list[Produced] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _warm: int = 0
    _next: int = 0

    async def setup(self, timeout_s: float) -> None:
        await asyncio.wait_for(self.driver.setup(), timeout_s)

    async def warmup(self) -> bool:
        self._warm += 1
        marker, _ = make_marker(self.run_id, "w", self._warm)
        try:
            await self.driver.produce(STATUS_PUBLIC, marker, tag=self.tag)
        except StimulusError as exc:
            self.failures.append(f"warm-up: {exc}")
            return False
        return True

    async def one(self) -> Produced | None:
        seq = self._next
        self._next += 1
        marker, sent_us = make_marker(self.run_id, "m", seq)
        start = time.monotonic()
        try:
            await self.driver.produce(STATUS_PUBLIC, marker, tag=self.tag)
        except StimulusError as exc:
            self.failures.append(f"stimulus {seq}: {exc}")
            return None
        produced = Produced(seq, sent_us, time.monotonic() - start)
        self.produced.append(produced)
        return produced

    async def paced(self, rate: float, duration_s: float, hard_deadline: float) -> list[Produced]:
        """``rate * duration`` stimuli on a fixed schedule (late ones go at once, none skipped);
        stops early at ``hard_deadline`` (loop time)."""
        loop = asyncio.get_running_loop()
        count = max(1, round(rate * duration_s))
        start = loop.time()
        out: list[Produced] = []
        for i in range(count):
            due = start + i / rate
            if due > hard_deadline:
                break
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)  # the stimulus schedule itself, not a wait for a state
            produced = await self.one()
            if produced is not None:
                out.append(produced)
        return out

    async def close(self) -> None:
        """Undo everything the driver created (statuses, follows, lists); never raises."""
        try:
            await asyncio.wait_for(self.driver.cleanup(), 120.0)
        except Exception as exc:
            self.failures.append(f"cleanup: {exc}")
        aclose = getattr(self.driver, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except Exception as exc:
                self.failures.append(f"close: {exc}")
