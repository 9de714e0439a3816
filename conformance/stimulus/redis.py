"""``--stimulus redis``: drive a bare streaming server by publishing what Rails would publish.

Mastodon's streaming server never sees the REST API; Rails publishes ``{"event","payload"}``
messages to Redis and the streaming server fans them out. People developing that server (or a
replacement) need to drive it alone, so this driver plays the Rails side: for each scenario it
asks ``redis_fanout.FanOut`` for the exact ``(channel, message)`` list Rails would publish,
checks the ``subscribed:<channel>`` keys the streaming server maintains (as Rails does; one MGET),
and PUBLISHes. Scenarios a single instance's REST API cannot cause (remote authors, media-only
remote streams, announcements, ``notifications_merged``) become exercisable this way.

Every publish is kept as a ``stimulus`` record (action ``redis-publish``, detail ``{channel,
event, message, receivers}``); messages carry no credentials. Nothing persists in Redis except
the ``subscribed:*`` keys, which belong to the server and are never written here; ``cleanup()``
publishes ``delete`` for every status still standing, as RemoveStatusService would.

With ``--database-url`` (``redis_world.py``) the driver also writes what Rails would write to
PostgreSQL: it seeds its own accounts, tokens and list, mutes and blocks authors in the database,
stores filters, and revokes a token (``revoked_at``, then ``kill``), so a bare streaming server
needs nothing pre-made. Without one, those scenarios are not_exercised, naming the option.

Optional HTTP (never required, and only to a target that answered an instance document, i.e.
has a REST API): account names through ``verify_credentials`` when tokens are known, mutes and
blocks through the REST API, and on the reference server minted tokens (with their ids).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from conformance.stimulus.base import (
    BLOCKED_AUTHOR,
    FILTER_CHANGE,
    MUTED_AUTHOR,
    SCENARIOS,
    STATUS_PUBLIC,
    STATUS_REMOTE,
    TOKEN_REVOKE,
    Account,
    Produced,
    ScenarioUnsupported,
    SetupInfo,
    StimulusError,
)
from conformance.stimulus.redis_fanout import Cast, FanOut, Plan
from conformance.stimulus.redis_messages import encode_message
from conformance.stimulus.redis_render import Person
from conformance.stimulus.redis_world import DATABASE_FACTS, WorldBackend, cast_of
from conformance.tls import client_tls
from conformance.transcript.model import Record
from conformance.urls import without_userinfo

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 5.0
REMOTE_ACCT = "carol@remote.example"

#: Scenarios whose relation lives in the target's database, where Redis cannot put it: with a
#: REST API and A's token the driver creates it there (kind, whose account, the status scenario
#: then published), and publishes the author's status on the public and hashtag channels only,
#: as Rails' home fan-out skips a muted or blocked author.
RELATIONS = {
    MUTED_AUTHOR: ("mute", "b", STATUS_PUBLIC),
    BLOCKED_AUTHOR: ("block", "remote", STATUS_REMOTE),
}
_FILTERED_CHANNELS = ("timeline:public", "timeline:hashtag:")


class RedisDriver:
    """Plays the Rails side of a Mastodon instance against ``client``'s Redis."""

    name = "redis"

    def __init__(
        self,
        client: aioredis.Redis,
        cast: Cast,
        *,
        tag: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        honour_subscriptions: bool = True,
        http: httpx.AsyncClient | None = None,
        base_url: str | None = None,
        tokens: tuple[str | None, str | None] = (None, None),
        reference_extras: bool = False,
        revocable_token_id: str | None = None,
        world: WorldBackend | None = None,
    ) -> None:
        self._redis = client
        self.fanout = FanOut(cast)
        self.tag = tag
        self._timeout = timeout_s
        self.honour_subscriptions = honour_subscriptions
        self._http = http
        self._base = without_userinfo(base_url).rstrip("/") if base_url else None
        self._tokens = {"a": tokens[0], "b": tokens[1]}
        self.reference_extras = reference_extras
        self._revocable_id = revocable_token_id
        self._t0 = time.monotonic()
        #: the wall-clock time of ``_t0``, to the millisecond: the stimulus log's start, so its
        #: records' ``t`` (seconds since ``_t0``) place each call on the transcripts' clock
        self.started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        self.records: list[Record] = []
        self._info: SetupInfo | None = None
        self._remote_known = False
        self._undo: list[tuple[str, str]] = []  # (REST path, what) to run at cleanup
        self._world_relations: list[tuple[str, int]] = []  # (mute|block, database row id)
        self.world = world  # --database-url: the driver writes Rails' rows itself

    # --- construction ------------------------------------------------------------------------

    @classmethod
    def from_settings(cls, settings: Any, target: Any, *, tag: str | None = None) -> RedisDriver:
        """Build from ``config.Settings`` and ``discovery.TargetInfo`` (duck-typed).

        ``tag`` is the run's hashtag (as ``RestDriver``'s); a ``tag`` param to ``produce`` wins,
        and without either the marker is the tag.
        """
        if not settings.redis_url:
            raise StimulusError("--stimulus redis needs --redis-url")
        database_url = getattr(settings, "database_url", None)
        if not database_url and (not settings.account_id or not settings.second_account_id):
            raise StimulusError(
                "--stimulus redis needs --account-id and --second-account-id "
                "(or --database-url, to create its own accounts)"
            )
        multiplier = float(getattr(settings, "timeout_multiplier", 1.0) or 1.0)
        timeout = DEFAULT_TIMEOUT_S * multiplier
        world = WorldBackend(database_url, timeout_s=timeout) if database_url else None
        client = aioredis.Redis.from_url(
            settings.redis_url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            decode_responses=True,
        )
        base_url = getattr(target, "base_url", None) or settings.target
        host = (urlsplit(base_url).hostname if base_url else None) or "mastodon.example"
        cast = Cast.of(
            str(settings.account_id or "0"),
            str(settings.second_account_id or "0"),
            str(settings.list_id) if settings.list_id else None,
            local_host=host,
        )
        # A REST API exists only where an instance document was read: never POST to a bare
        # streaming server (it answers 400 "Unknown channel requested" to everything).
        if getattr(target, "bare", False) or not getattr(target, "instance", None):
            base_url = None
        http = None
        if base_url:
            http = httpx.AsyncClient(
                timeout=timeout, verify=client_tls(bool(getattr(settings, "verify_tls", True)))
            )
        return cls(
            client,
            cast,
            tag=tag,
            timeout_s=timeout,
            http=http,
            base_url=base_url,
            tokens=(settings.token, settings.second_token),
            reference_extras=bool(getattr(target, "is_reference", False)),
            world=world,
        )

    # --- Driver protocol ---------------------------------------------------------------------

    def supports(self, scenario: str) -> bool:
        return self.unsupported_reason(scenario) == ""

    def facts(self) -> frozenset[str]:
        """What this driver lets the run exercise (plan ``needs``), decided after setup."""
        out = {"remote-authors"}
        if self.world is not None or self._revocable_id:
            out |= DATABASE_FACTS
        return frozenset(out)

    def unsupported_reason(self, scenario: str) -> str:
        params: dict[str, Any] = {}
        if scenario == TOKEN_REVOKE and self._revocable_id:
            params["token_id"] = self._revocable_id
        if scenario not in SCENARIOS:
            return "not a scenario of the catalogue"
        if scenario in RELATIONS:
            return self._relation_unsupported(scenario)
        return self.fanout.unsupported_reason(scenario, **params) or ""

    def _relation_unsupported(self, scenario: str) -> str:
        if self.world is not None:
            return ""
        database = self.fanout.unsupported_reason(scenario) or ""
        if self._http is None or self._base is None or not self._tokens.get("a"):
            return f"{database} (or a REST API: --target with --token)"
        if RELATIONS[scenario][1] == "remote" and not self._remote_known:
            return f"{database} (the remote author is no account of the target's REST API)"
        return ""

    async def setup(self) -> SetupInfo:
        await self._call(self._redis.ping(), "PING")
        if self.world is not None:
            return await self._setup_world()
        notes: list[str] = []
        cast = self.fanout.cast
        a = await self._whoami("a", cast.a, notes)
        b = await self._whoami("b", cast.b, notes)
        remote = cast.remote
        tokens: dict[str, str] = {}
        if self.reference_extras:
            remote = await self._reference_remote(remote, notes)
            for role, scopes in (
                ("scope:read:notifications", "read:notifications"),
                ("revocable", "read"),
            ):
                minted = await self._mint(a.id, scopes, notes)
                if minted is not None:
                    tokens[role] = minted[0]
                    if role == "revocable":
                        self._revocable_id = minted[1]
        self.fanout.cast = replace(cast, a=a, b=b, remote=remote)
        if cast.list_id is None:
            notes.append("no --list-id: list streams get nothing from the Redis driver")
        self._info = SetupInfo(
            a=Account(a.id, a.acct, a.username),
            b=Account(b.id, b.acct, b.username),
            list_id=cast.list_id,
            tokens=tokens,
            remote_acct=remote.acct,
            notes=tuple(notes),
        )
        return self._info

    async def _setup_world(self) -> SetupInfo:
        """Seed the database (accounts, users, tokens, list, domain block, filter) as Rails."""
        assert self.world is not None
        info = await self.world.seed()
        self.fanout.cast = cast_of(info, self.fanout.cast.local_host)
        self._revocable_id = info.token_ids["revocable"]
        self._remote_known = True
        cast = self.fanout.cast
        self._info = SetupInfo(
            a=Account(cast.a.id, cast.a.acct, cast.a.username),
            b=Account(cast.b.id, cast.b.acct, cast.b.username),
            list_id=cast.list_id,
            tokens=dict(info.tokens),
            remote_acct=cast.remote.acct,
            notes=(f"--database-url: seeded fixture world {info.run_id} (removed at the end)",),
        )
        return self._info

    async def produce(self, scenario: str, marker: str, **params: Any) -> Produced:
        if scenario == TOKEN_REVOKE and "token_id" not in params and self._revocable_id:
            params["token_id"] = self._revocable_id
        if self.world is not None and scenario == TOKEN_REVOKE:
            params["token_id"] = await self.world.revoke("revocable")  # revoked_at, then kill
        if self.world is not None and scenario == FILTER_CHANGE and "filter_id" not in params:
            keyword = f"{marker}nevermatches"
            params["filter_id"] = await self.world.add_filter(
                self.fanout.cast.a.id, marker, keyword
            )
        if "tag" not in params and self.tag:
            params["tag"] = self.tag
        reason = self.unsupported_reason(scenario)
        if reason:
            raise ScenarioUnsupported(scenario, reason)
        built = scenario
        if scenario in RELATIONS:
            built = await self._relate(scenario)
        subscribed = await self._subscribed()
        try:
            plan = self.fanout.build(built, marker, subscribed, **params)
        except (KeyError, ValueError, TypeError) as exc:
            raise StimulusError(f"{scenario}: {exc}") from exc
        if built != scenario:
            plan.scenario = scenario
            plan.publishes = [p for p in plan.publishes if p.channel.startswith(_FILTERED_CHANNELS)]
        published = await self._publish_plan(plan, marker)
        detail = dict(plan.detail)
        detail["publishes"] = published
        return Produced(
            scenario=scenario,
            marker=marker,
            ids=dict(plan.ids),
            rest_bodies=plan.bodies,
            detail=detail,
        )

    async def _relate(self, scenario: str) -> str:
        """Create the scenario's mute or block through the REST API; returns what to publish."""
        kind, whose, status_scenario = RELATIONS[scenario]
        cast = self.fanout.cast
        account_id = cast.b.id if whose == "b" else cast.remote.id
        if self.world is not None:  # the row Rails' MuteService/BlockService would write
            row = await self.world.relate(kind, cast.a.id, account_id)
            self._world_relations.append((kind, row))
            return status_scenario
        await self._get_json(
            f"/api/v1/accounts/{account_id}/{kind}", self._tokens["a"], method="POST"
        )
        self._undo.append((f"/api/v1/accounts/{account_id}/un{kind}", f"un{kind} {whose}"))
        return status_scenario

    async def rewind(self) -> None:
        """Undo the mutes and blocks the steps created (REST or database rows), keeping the
        rest: a ``--max-connections`` batch starts with nobody muted, as the first did."""
        for path, what in reversed(self._undo):
            try:
                await self._get_json(path, self._tokens["a"], method="POST")
            except (StimulusError, ValueError) as exc:
                log.warning("redis rewind: %s failed: %s", what, exc)
        self._undo.clear()
        relations, self._world_relations = self._world_relations, []
        if self.world is not None:
            for kind, row in reversed(relations):
                try:
                    await self.world.unrelate(kind, row)
                except StimulusError as exc:  # the final cleanup still sweeps the row
                    log.warning("redis rewind: un%s failed: %s", kind, exc)

    async def cleanup(self) -> None:
        """Undo REST relations, publish ``delete`` for every status still standing, then close;
        never raises."""
        for path, what in reversed(self._undo):
            try:
                await self._get_json(path, self._tokens["a"], method="POST")
            except (StimulusError, ValueError) as exc:
                log.warning("redis cleanup: %s failed: %s", what, exc)
        self._undo.clear()
        try:
            for spec in self.fanout.standing():
                self.fanout.forget(spec.id)
                for channel in self.fanout.delete_channels(spec):
                    await self._publish(channel, encode_message("delete", spec.id), "delete", None)
        except asyncio.CancelledError:
            log.warning("redis cleanup interrupted")
        except Exception as exc:  # cleanup must not raise
            log.warning("redis cleanup failed: %s", exc)
        finally:
            if self.world is not None:
                for problem in await self.world.cleanup():
                    log.warning("%s", problem)
            await self.aclose()

    async def aclose(self) -> None:
        for closer in (self._close_redis, self._close_http):
            try:
                await asyncio.wait_for(closer(), self._timeout)
            except Exception as exc:  # closing is best effort
                log.debug("close failed: %s", exc)

    # --- Redis -------------------------------------------------------------------------------

    async def _call(self, awaitable: Awaitable[T], what: str) -> T:
        try:
            return await asyncio.wait_for(awaitable, self._timeout)
        except TimeoutError as exc:
            raise StimulusError(f"redis {what} timed out after {self._timeout:g} s") from exc
        except (RedisError, OSError) as exc:
            raise StimulusError(f"redis {what} failed: {type(exc).__name__}: {exc}") from exc

    async def _subscribed(self) -> set[str]:
        """Channels whose ``subscribed:<channel>`` key exists (what Rails checks)."""
        channels = self.fanout.recipient_channels()
        if not self.honour_subscriptions:
            return set(channels)
        values = await self._call(
            self._redis.mget([f"subscribed:{c}" for c in channels]), "MGET subscribed:*"
        )
        return {c for c, v in zip(channels, values, strict=True) if v is not None}

    async def _publish(self, channel: str, message: str, event: str, marker: str | None) -> int:
        receivers = await self._call(self._redis.publish(channel, message), f"PUBLISH {channel}")
        self.records.append(
            Record(
                t=time.monotonic() - self._t0,
                kind="stimulus",
                fields={
                    "action": "redis-publish",
                    "detail": {
                        "channel": channel,
                        "event": event,
                        "message": message,
                        "receivers": int(receivers),
                    },
                    "marker": marker,
                },
            )
        )
        return int(receivers)

    async def _publish_plan(self, plan: Plan, marker: str) -> list[dict[str, Any]]:
        out = []
        for item in plan.publishes:
            receivers = await self._publish(item.channel, item.message, item.event, marker)
            out.append({"channel": item.channel, "event": item.event, "receivers": receivers})
        return out

    async def _close_redis(self) -> None:
        await self._redis.aclose()

    async def _close_http(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    # --- optional HTTP -----------------------------------------------------------------------

    async def _get_json(self, path: str, token: str | None, **kwargs: Any) -> Any:
        if self._http is None or self._base is None:
            return None
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = await self._http.request(
                kwargs.pop("method", "GET"), f"{self._base}{path}", headers=headers, **kwargs
            )
        except httpx.HTTPError as exc:
            raise StimulusError(f"{path}: {type(exc).__name__}") from exc
        if response.status_code not in (200, 201):
            raise StimulusError(f"{path}: HTTP {response.status_code}")
        return response.json()

    async def _whoami(self, who: str, person: Person, notes: list[str]) -> Person:
        """The account's real username, if its token can ask; ids always come from settings."""
        token = self._tokens.get(who)
        if not token:
            return person
        try:
            me = await self._get_json("/api/v1/accounts/verify_credentials", token)
        except (StimulusError, ValueError) as exc:
            notes.append(f"verify_credentials for {who} failed: {exc}")
            return person
        if not isinstance(me, dict):
            return person
        if str(me.get("id")) != person.id:
            notes.append(f"token {who} belongs to account {me.get('id')}, not {person.id}")
        username = str(me.get("username") or person.username)
        return replace(person, username=username, display_name=str(me.get("display_name") or ""))

    async def _reference_remote(self, remote: Person, notes: list[str]) -> Person:
        try:
            found = await self._get_json(
                "/api/v1/accounts/lookup", self._tokens.get("a"), params={"acct": REMOTE_ACCT}
            )
        except (StimulusError, ValueError) as exc:
            notes.append(f"no remote account on the reference server: {exc}")
            return remote
        if isinstance(found, dict) and found.get("id"):
            self._remote_known = True
            username, _, host = REMOTE_ACCT.partition("@")
            return replace(remote, id=str(found["id"]), username=username, host=host)
        return remote

    async def _mint(self, account_id: str, scopes: str, notes: list[str]) -> tuple[str, str] | None:
        try:
            minted = await self._get_json(
                "/_reference/tokens",
                None,
                method="POST",
                json={"account_id": account_id, "scopes": scopes},
            )
            return str(minted["access_token"]), str(minted["id"])
        except (StimulusError, KeyError, TypeError, ValueError) as exc:
            notes.append(f"could not mint a {scopes} token: {exc}")
            return None


__all__ = ["RedisDriver"]
