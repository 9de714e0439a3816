"""The Redis driver's database side: the fixture world seen from async code, and what it gives.

With ``--database-url`` the Redis driver plays all of Rails: Redis messages for events, and rows
in PostgreSQL for everything the streaming server looks up (accounts, tokens, lists, mutes,
blocks, filters, revocations). ``WorldBackend`` runs ``database.FixtureWorld``'s blocking calls
in a worker thread so the event loop keeps recording streams meanwhile; ``cast_of`` turns the
seeded accounts into the fan-out's cast (the world's tokens reach the run through
``stimulus.base.with_world_tokens``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from conformance.database import FixtureWorld, SchemaError, WorldInfo
from conformance.stimulus.base import StimulusError
from conformance.stimulus.redis_fanout import Cast
from conformance.stimulus.redis_render import Person

__all__ = ["WorldBackend", "cast_of"]

#: What a run gains when the driver has a database (plan ``needs``; session/capabilities.py).
DATABASE_FACTS = frozenset({"scoped-tokens", "revocation"})


class WorldBackend:
    """Async façade over one ``FixtureWorld``; every call bounded by ``timeout_s``."""

    def __init__(self, url: str, *, timeout_s: float) -> None:
        self.world = FixtureWorld(url, timeout_s=timeout_s)
        self._timeout_s = timeout_s
        self.info: WorldInfo | None = None

    async def _run(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args), self._timeout_s * 3)
        except SchemaError as exc:
            raise StimulusError(str(exc)) from exc
        except TimeoutError as exc:
            raise StimulusError(f"database {what} timed out") from exc
        except Exception as exc:  # psycopg errors: the environment's problem, one line
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StimulusError(f"database {what} failed: {detail}") from exc

    async def seed(self) -> WorldInfo:
        self.info = await self._run("seed", self.world.seed)
        return self.info

    async def relate(self, kind: str, account_id: str, target_id: str) -> int:
        return int(await self._run(kind, self.world.relate, kind, account_id, target_id))

    async def unrelate(self, kind: str, row_id: int) -> None:
        await self._run(f"un{kind}", self.world.delete_row, f"{kind}s", row_id)

    async def add_filter(self, account_id: str, title: str, keyword: str) -> str:
        return str(await self._run("filter", self.world.add_filter, account_id, title, keyword))

    async def revoke(self, role: str) -> str:
        return str(await self._run("revoke", self.world.revoke, role))

    async def cleanup(self) -> list[str]:
        """Never raises; shielded from cancellation by the caller's ``finally``."""
        try:
            return list(await asyncio.to_thread(self.world.cleanup))
        except BaseException as exc:  # a cancelled thread still finishes its cleanup
            return [f"database cleanup: {type(exc).__name__}"]


def cast_of(info: WorldInfo, local_host: str) -> Cast:
    """The fan-out's cast from the seeded accounts (A, B local; R on ``remote.example``)."""
    remote = info.remote
    return Cast(
        a=Person(info.a.id, info.a.username, local_host, True, "Conformance A"),
        b=Person(info.b.id, info.b.username, local_host, True, "Conformance B"),
        remote=Person(remote.id, remote.username, remote.domain or "", False, "Conformance R"),
        list_id=info.list_id,
        local_host=local_host,
    )
