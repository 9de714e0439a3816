"""``RestDriver``: the ``Driver`` protocol over the target's REST API (setup, gating, dispatch)."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from conformance.stimulus.base import (
    ANNOUNCEMENT,
    ANNOUNCEMENT_DELETE,
    ANNOUNCEMENT_REACTION,
    BLOCKED_AUTHOR,
    MUTED_AUTHOR,
    NOTIFICATIONS_MERGED,
    STATUS_PUBLIC,
    STATUS_PUBLIC_MEDIA,
    STATUS_REMOTE,
    STATUS_REMOTE_MEDIA,
    TOKEN_REVOKE,
    Account,
    Produced,
    ScenarioUnsupported,
    SetupInfo,
    StimulusError,
)
from conformance.stimulus.rest.answers import (
    MalformedAnswer,
    need_id,
    need_list,
    need_object,
    need_str,
)
from conformance.stimulus.rest.scenarios import HANDLERS, ScenarioHandlers
from conformance.stimulus.rest.undo import UndoStep
from conformance.transcript.model import Record
from conformance.urls import without_userinfo

#: Scenarios that need the reference server's ``/_reference/*`` extras.
_EXTRAS_ONLY = frozenset(
    {
        STATUS_REMOTE,
        STATUS_REMOTE_MEDIA,
        BLOCKED_AUTHOR,
        ANNOUNCEMENT,
        ANNOUNCEMENT_REACTION,
        ANNOUNCEMENT_DELETE,
        TOKEN_REVOKE,
    }
)
_PUBLIC_ONLY = frozenset({STATUS_PUBLIC, STATUS_PUBLIC_MEDIA, MUTED_AUTHOR})
REMOTE_ACCT = "carol@remote.example"
T = TypeVar("T")


class RestDriver(ScenarioHandlers):
    """The ``--stimulus rest`` driver: token_a is the viewer, token_b the actor."""

    name = "rest"

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        token_a: str,
        token_b: str,
        *,
        allow_public_posts: bool,
        reference_extras: bool,
        list_id: str | None = None,
        tag: str | None = None,
        request_timeout_s: float = 10.0,
        max_retry_wait_s: float = 30.0,
    ) -> None:
        self._client = client
        self._base = without_userinfo(base_url).rstrip("/")  # Bearer, never Basic
        self._tokens = {"a": token_a, "b": token_b}
        self.allow_public_posts = allow_public_posts
        self.reference_extras = reference_extras
        self._given_list_id = list_id
        self.tag = tag
        self._timeout = request_timeout_s
        self._max_retry_wait = max_retry_wait_s
        self._undo: list[tuple[str, UndoStep]] = []
        self._info: SetupInfo | None = None
        self._remote_id: str | None = None
        self.requests_made = 0
        self.records: list[Record] = []  # one ``stimulus`` record per REST call, no credentials
        self.leftovers: list[str] = []  # what cleanup could not remove (report.json)
        self._marker: str | None = None
        self._t0 = time.monotonic()
        #: the wall-clock time of ``_t0``, to the millisecond: the stimulus log's start, so its
        #: records' ``t`` (seconds since ``_t0``) place each call on the transcripts' clock
        self.started_at = datetime.now(UTC).isoformat(timespec="milliseconds")

    def supports(self, scenario: str) -> bool:
        return self.unsupported_reason(scenario) == ""

    def unsupported_reason(self, scenario: str) -> str:
        if scenario in _EXTRAS_ONLY and not self.reference_extras:
            return "needs the reference server's /_reference extras (not a Mastodon API)"
        if scenario in _PUBLIC_ONLY and not self.allow_public_posts:
            return "public posts are off for this target (use --allow-public-posts)"
        if scenario == NOTIFICATIONS_MERGED:
            return "no REST API causes notifications_merged on demand"
        if scenario == TOKEN_REVOKE and not (self._info and "revocable" in self._info.tokens):
            return "no revocable token could be minted"
        return ""

    async def setup(self) -> SetupInfo:
        info = await self._to_completion(_answers_checked("setup", self._setup()))
        self.mark_setup()
        return info

    async def _setup(self) -> SetupInfo:
        me_a = await self._call("a", "GET", "/api/v1/accounts/verify_credentials")
        me_b = await self._call("b", "GET", "/api/v1/accounts/verify_credentials")
        a = _account(me_a, "GET verify_credentials (--token)")
        b = _account(me_b, "GET verify_credentials (--second-token)")
        if a.id == b.id:
            raise StimulusError("--token and --second-token belong to the same account")
        notes: list[str] = []
        # First, so that dismissing the run's notifications is the last undo step.
        await self._watch_notifications(a.id, b.id)

        if not await self._is_following("a", b.id):
            await self._call("a", "POST", f"/api/v1/accounts/{b.id}/follow")
            self._remember(
                "unfollow a->b",
                lambda: self._call("a", "POST", f"/api/v1/accounts/{b.id}/unfollow"),
            )

        list_id = self._given_list_id
        if list_id is None:
            created = await self._call(
                "a", "POST", "/api/v1/lists", json={"title": "conformance run"}
            )
            list_id = need_id(created, "POST /api/v1/lists")
            self._remember(
                "delete list", lambda: self._call("a", "DELETE", f"/api/v1/lists/{list_id}")
            )
        members = await self._call("a", "GET", f"/api/v1/lists/{list_id}/accounts")
        members = need_list(members, f"GET /api/v1/lists/{list_id}/accounts")
        if not any(isinstance(m, dict) and str(m.get("id")) == b.id for m in members):
            await self._call(
                "a", "POST", f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [b.id]}
            )
            self._remember(
                "list remove b",
                lambda: self._call(
                    "a",
                    "DELETE",
                    f"/api/v1/lists/{list_id}/accounts",
                    params={"account_ids[]": b.id},
                ),
            )

        tokens: dict[str, str] = {}
        remote_acct = None
        if self.reference_extras:
            for role, scopes in (
                ("scope:read:notifications", "read:notifications"),
                ("revocable", "read"),
            ):
                try:
                    minted = await self._call(
                        "none",
                        "POST",
                        "/_reference/tokens",
                        json={"account_id": a.id, "scopes": scopes},
                        ok=(200, 201),
                    )
                    tokens[role] = need_str(minted, "POST /_reference/tokens", "access_token")
                except StimulusError as exc:
                    notes.append(f"could not mint a {role} token: {exc}")
            try:
                remote = await self._call(
                    "a", "GET", "/api/v1/accounts/lookup", params={"acct": REMOTE_ACCT}
                )
                self._remote_id = need_id(remote, "GET /api/v1/accounts/lookup")
                remote_acct = REMOTE_ACCT
            except StimulusError as exc:
                notes.append(f"no remote account: {exc}")
        self._info = SetupInfo(
            a=a, b=b, list_id=list_id, tokens=tokens, remote_acct=remote_acct, notes=tuple(notes)
        )
        return self._info

    async def produce(self, scenario: str, marker: str, **params: Any) -> Produced:
        reason = self.unsupported_reason(scenario)
        if reason:
            raise ScenarioUnsupported(scenario, reason)
        if self._info is None:
            raise StimulusError("produce() before setup()")
        handler = HANDLERS.get(scenario)
        if handler is None:
            raise ScenarioUnsupported(scenario, "not implemented by the REST driver")
        self._marker = marker
        try:
            return await self._to_completion(
                _answers_checked(scenario, handler(self, scenario, marker, params))
            )
        finally:
            self._marker = None


def _account(me: Any, what: str) -> Account:
    obj = need_object(me, what)
    acct, username = obj.get("acct"), obj.get("username")
    return Account(
        id=need_id(obj, what),
        acct=acct if isinstance(acct, str) else "",
        username=username if isinstance(username, str) else "",
    )


async def _answers_checked(what: str, work: Awaitable[T]) -> T:
    """Last line of defence: a REST answer shaped in a way no helper anticipated (a lookup or
    a type error while reading it) is that step's ``MalformedAnswer``, never a session crash."""
    try:
        return await work
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise MalformedAnswer(
            f"{what}: malformed REST answer ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None
