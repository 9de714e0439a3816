"""Cause streaming events through the target's own REST API, as two ordinary users would.

Why through REST: it is the only stimulus that works on any Mastodon-compatible target without
access to its internals, and it exercises the whole path (web side -> fan-out -> streaming).
Everything this driver creates or changes is recorded in an undo log and reverted by
``cleanup()`` in reverse order, so a run leaves the accounts as it found them, also after a
failure or Ctrl-C. Tokens live only in request headers; no message or exception carries them.

The reference server's ``/_reference/*`` extras (remote statuses, announcements, minted tokens)
are used only when ``reference_extras`` is True; on other targets those scenarios are
unsupported and their cases not_exercised.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from conformance.stimulus.base import (
    ANNOUNCEMENT,
    ANNOUNCEMENT_DELETE,
    ANNOUNCEMENT_REACTION,
    BLOCKED_AUTHOR,
    FAVOURITE,
    FILTER_CHANGE,
    FOLLOW,
    LIST_MEMBER_STATUS,
    MUTED_AUTHOR,
    NOTIFICATIONS_MERGED,
    REBLOG,
    STATUS_DELETE,
    STATUS_DIRECT,
    STATUS_EDIT,
    STATUS_MENTION,
    STATUS_OWN,
    STATUS_PRIVATE,
    STATUS_PUBLIC,
    STATUS_PUBLIC_MEDIA,
    STATUS_REMOTE,
    STATUS_REMOTE_MEDIA,
    STATUS_UNLISTED,
    TOKEN_REVOKE,
    Account,
    Produced,
    ScenarioUnsupported,
    SetupInfo,
    StimulusError,
)
from conformance.transcript.model import Record

log = logging.getLogger(__name__)

#: A 1x1 transparent PNG: the smallest upload every server accepts as an image.
_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

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

UndoStep = Callable[[], Awaitable[None]]
T = TypeVar("T")


class RestDriver:
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
        self._base = base_url.rstrip("/")
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
        self._marker: str | None = None
        self._t0 = time.monotonic()

    # --- HTTP ------------------------------------------------------------------------------

    async def _call(
        self,
        who: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        files: Any = None,
        data: Any = None,
        ok: tuple[int, ...] = (200,),
        token: str | None = None,
    ) -> Any:
        """One request as ``who`` (``a``, ``b`` or ``none``); 429 waits for Retry-After (bounded)
        and retries; any other unexpected status raises ``StimulusError`` without the token."""
        headers = {"Accept": "application/json"}
        bearer = token if token is not None else self._tokens.get(who)
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        url = f"{self._base}{path}"
        waited = 0.0
        for _attempt in range(6):
            self.requests_made += 1
            try:
                response = await self._client.request(
                    method,
                    url,
                    headers=headers,
                    json=json,
                    params=params,
                    files=files,
                    data=data,
                    timeout=self._timeout,
                )
            except httpx.HTTPError as exc:
                self._record(who, method, path, json, params, None)
                raise StimulusError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
            self._record(who, method, path, json, params, response.status_code)
            if response.status_code == 429:
                delay = _retry_after(response.headers.get("retry-after"))
                if waited + delay > self._max_retry_wait:
                    raise StimulusError(f"{method} {path}: rate limited beyond the retry budget")
                log.info("429 on %s %s, waiting %.1fs", method, path, delay)
                await asyncio.sleep(delay)  # the server told us how long; not a guess
                waited += delay
                continue
            if response.status_code not in ok:
                raise StimulusError(
                    f"{method} {path}: HTTP {response.status_code} {response.text[:200]!r}"
                )
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                return response.text
        raise StimulusError(f"{method} {path}: still rate limited after retries")

    def _record(
        self, who: str, method: str, path: str, body: Any, params: Any, status: int | None
    ) -> None:
        """Log the call for the stimulus log: who, what, the JSON body and query, the status.
        Headers (the token) and form bodies (``/oauth/revoke`` carries a token) never enter."""
        detail: dict[str, Any] = {"who": who, "method": method, "path": path, "status": status}
        if body is not None:
            detail["json"] = body
        if params is not None:
            detail["params"] = params
        self.records.append(
            Record(
                t=time.monotonic() - self._t0,
                kind="stimulus",
                fields={"action": "rest", "detail": detail, "marker": self._marker},
            )
        )

    def _remember(self, label: str, step: UndoStep) -> None:
        self._undo.append((label, step))

    def _forget(self, label: str) -> None:
        self._undo = [(name, step) for name, step in self._undo if name != label]

    # --- Driver protocol -------------------------------------------------------------------

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
        return await self._to_completion(self._setup())

    async def _setup(self) -> SetupInfo:
        me_a = await self._call("a", "GET", "/api/v1/accounts/verify_credentials")
        me_b = await self._call("b", "GET", "/api/v1/accounts/verify_credentials")
        a, b = _account(me_a), _account(me_b)
        if a.id == b.id:
            raise StimulusError("--token and --second-token belong to the same account")
        notes: list[str] = []

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
            list_id = str(created["id"])
            self._remember(
                "delete list", lambda: self._call("a", "DELETE", f"/api/v1/lists/{list_id}")
            )
        members = await self._call("a", "GET", f"/api/v1/lists/{list_id}/accounts")
        if not any(str(m.get("id")) == b.id for m in members or []):
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
                    tokens[role] = minted["access_token"]
                except (StimulusError, KeyError, TypeError) as exc:
                    notes.append(f"could not mint a {role} token: {exc}")
            try:
                remote = await self._call(
                    "a", "GET", "/api/v1/accounts/lookup", params={"acct": REMOTE_ACCT}
                )
                self._remote_id = str(remote["id"])
                remote_acct = REMOTE_ACCT
            except (StimulusError, KeyError, TypeError) as exc:
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
        handler = _HANDLERS.get(scenario)
        if handler is None:
            raise ScenarioUnsupported(scenario, "not implemented by the REST driver")
        self._marker = marker
        try:
            return await self._to_completion(handler(self, scenario, marker, params))
        finally:
            self._marker = None

    async def _to_completion(self, work: Awaitable[T]) -> T:
        """Run ``work`` to its end even if we are cancelled (Ctrl-C) meanwhile: a request the
        server already honoured must reach the undo log, or cleanup cannot remove what it made.
        The cancellation is re-raised once the work is done (bounded by a few timeouts)."""
        task = asyncio.ensure_future(work)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), self._timeout * 3)
            raise

    async def cleanup(self) -> None:
        """Undo in reverse order; each step is attempted even if an earlier one failed.

        Shielded so a Ctrl-C arriving during cleanup does not leave half the state behind."""
        steps, self._undo = list(reversed(self._undo)), []
        for label, step in steps:
            try:
                await asyncio.shield(step())
            except asyncio.CancelledError:
                log.warning("cleanup step %s interrupted", label)
            except Exception as exc:  # cleanup must not raise; report and go on
                log.warning("cleanup step %s failed: %s", label, exc)

    @property
    def pending_cleanup(self) -> list[str]:
        return [label for label, _ in self._undo]

    # --- helpers -----------------------------------------------------------------------------

    async def _is_following(self, who: str, target_id: str) -> bool:
        try:
            rels = await self._call(
                who, "GET", "/api/v1/accounts/relationships", params={"id[]": target_id}
            )
        except StimulusError:
            return False
        return bool(rels) and bool(rels[0].get("following"))

    def _text(self, marker: str, params: dict[str, Any], *, with_tag: bool = True) -> str:
        tag = params.get("tag", self.tag)
        return f"{marker} #{tag}" if with_tag and tag else marker

    async def _post_status(self, who: str, body: dict[str, Any]) -> dict[str, Any]:
        status = await self._call(who, "POST", "/api/v1/statuses", json=body)
        status_id = str(status["id"])
        self._remember(
            f"status {status_id}",
            lambda: self._call(who, "DELETE", f"/api/v1/statuses/{status_id}", ok=(200, 404)),
        )
        return status

    async def _viewed_by_a(self, status_id: str) -> Any:
        """The status as A's REST API renders it: what A's home/list payload should equal."""
        try:
            return await self._call("a", "GET", f"/api/v1/statuses/{status_id}")
        except StimulusError:
            return None

    async def _status(
        self,
        scenario: str,
        marker: str,
        params: dict[str, Any],
        *,
        who: str,
        visibility: str,
        with_tag: bool = True,
        mention: bool = False,
        media: bool = False,
    ) -> Produced:
        assert self._info is not None
        text = self._text(marker, params, with_tag=with_tag)
        if mention:
            text = f"@{self._info.a.acct} {text}"
        body: dict[str, Any] = {"status": text, "visibility": visibility, "language": "en"}
        if media:
            body["media_ids"] = [await self._upload_media(who)]
        status = await self._post_status(who, body)
        status_id = str(status["id"])
        viewed = await self._viewed_by_a(status_id) if visibility != "direct" else None
        return Produced(
            scenario=scenario,
            marker=marker,
            ids={"status": status_id},
            rest_bodies={"status": status, "status_as_a": viewed},
            detail={
                "author": who,
                "visibility": visibility,
                "media": media,
                "tag": params.get("tag", self.tag) if with_tag else None,
            },
        )

    async def _upload_media(self, who: str) -> str:
        media = await self._call(
            who,
            "POST",
            "/api/v2/media",
            files={"file": ("pixel.png", _PNG, "image/png")},
            data={"description": "conformance pixel"},
            ok=(200, 202),
        )
        media_id = str(media["id"])
        if media.get("url") is None:  # 202: processed asynchronously; wait until it is usable
            deadline = time.monotonic() + self._timeout
            delay = 0.2
            while time.monotonic() < deadline:
                got = await self._call(who, "GET", f"/api/v1/media/{media_id}", ok=(200, 206))
                if got and got.get("url"):
                    break
                await asyncio.sleep(delay)  # polling a server-side job: no event to wait on
                delay = min(delay * 2, 2.0)
        return media_id

    # --- scenario handlers ---------------------------------------------------------------------

    async def _h_public(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        return await self._status(
            scenario,
            marker,
            params,
            who="b",
            visibility="public",
            media=scenario == STATUS_PUBLIC_MEDIA,
        )

    async def _h_unlisted(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        return await self._status(scenario, marker, params, who="b", visibility="unlisted")

    async def _h_private(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        return await self._status(scenario, marker, params, who="b", visibility="private")

    async def _h_direct(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        return await self._status(
            scenario, marker, params, who="b", visibility="direct", with_tag=False, mention=True
        )

    async def _h_mention(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        return await self._status(
            scenario,
            marker,
            params,
            who="b",
            visibility=params.get("visibility", "unlisted"),
            with_tag=False,
            mention=True,
        )

    async def _h_own(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        visibility = params.get("visibility", "unlisted")
        if visibility == "public" and not self.allow_public_posts:
            raise ScenarioUnsupported(scenario, "public posts are off for this target")
        return await self._status(
            scenario,
            marker,
            params,
            who="a",
            visibility=visibility,
            with_tag=visibility == "public",
            media=bool(params.get("media", False)),
        )

    async def _h_favourite(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        status_id = _need(params, "status_id", scenario)
        body = await self._call("b", "POST", f"/api/v1/statuses/{status_id}/favourite")
        self._remember(
            f"unfavourite {status_id}",
            lambda: self._call(
                "b", "POST", f"/api/v1/statuses/{status_id}/unfavourite", ok=(200, 404)
            ),
        )
        return Produced(
            scenario=scenario,
            marker=marker,
            ids={"status": status_id},
            rest_bodies={"status": body},
            detail={"by": "b"},
        )

    async def _h_reblog(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        status_id = _need(params, "status_id", scenario)
        body = await self._call("b", "POST", f"/api/v1/statuses/{status_id}/reblog")
        self._remember(
            f"unreblog {status_id}",
            lambda: self._call(
                "b", "POST", f"/api/v1/statuses/{status_id}/unreblog", ok=(200, 404)
            ),
        )
        reblog_id = str(body["id"]) if isinstance(body, dict) and "id" in body else ""
        return Produced(
            scenario=scenario,
            marker=marker,
            ids={"status": status_id, "reblog": reblog_id},
            rest_bodies={"reblog": body},
            detail={"by": "b"},
        )

    async def _h_follow(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        assert self._info is not None
        a_id = self._info.a.id
        was_following = await self._is_following("b", a_id)
        if was_following:  # re-follow to cause a fresh notification; restored as it was
            await self._call("b", "POST", f"/api/v1/accounts/{a_id}/unfollow")
            self._remember(
                "refollow b->a", lambda: self._call("b", "POST", f"/api/v1/accounts/{a_id}/follow")
            )
        body = await self._call("b", "POST", f"/api/v1/accounts/{a_id}/follow")
        if not was_following:
            self._remember(
                "unfollow b->a",
                lambda: self._call("b", "POST", f"/api/v1/accounts/{a_id}/unfollow"),
            )
        return Produced(
            scenario=scenario,
            marker=marker,
            ids={"account": self._info.b.id, "target": a_id},
            rest_bodies={"relationship": body},
            detail={"by": "b"},
        )

    async def _h_edit(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        status_id = _need(params, "status_id", scenario)
        who = params.get("author", "b")
        text = params.get("text") or f"{self._text(marker, params)} (edited)"
        body = await self._call(
            who, "PUT", f"/api/v1/statuses/{status_id}", json={"status": text, "language": "en"}
        )
        return Produced(
            scenario=scenario,
            marker=marker,
            ids={"status": status_id},
            rest_bodies={"status": body, "status_as_a": await self._viewed_by_a(status_id)},
            detail={"author": who},
        )

    async def _h_delete(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        status_id = _need(params, "status_id", scenario)
        who = params.get("author", "b")
        await self._call(who, "DELETE", f"/api/v1/statuses/{status_id}")
        self._forget(f"status {status_id}")
        return Produced(
            scenario=scenario, marker=marker, ids={"status": status_id}, detail={"author": who}
        )

    async def _h_filter(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        body = await self._call(
            "a",
            "POST",
            "/api/v2/filters",
            json={
                "title": marker,
                "context": ["public"],
                "filter_action": "warn",
                "keywords_attributes": [{"keyword": f"{marker}zz", "whole_word": True}],
            },
        )
        filter_id = str(body["id"])
        self._remember(
            f"filter {filter_id}",
            lambda: self._call("a", "DELETE", f"/api/v2/filters/{filter_id}", ok=(200, 404)),
        )
        return Produced(
            scenario=scenario,
            marker=marker,
            ids={"filter": filter_id},
            rest_bodies={"filter": body},
            detail={"by": "a"},
        )

    async def _h_muted(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        """A mutes B, then B posts with the tag: A's filtered streams must drop it."""
        assert self._info is not None
        b_id = self._info.b.id
        await self._call("a", "POST", f"/api/v1/accounts/{b_id}/mute", json={"notifications": True})
        self._remember(
            "unmute b", lambda: self._call("a", "POST", f"/api/v1/accounts/{b_id}/unmute")
        )
        produced = await self._status(scenario, marker, params, who="b", visibility="public")
        return Produced(
            scenario=scenario,
            marker=marker,
            ids=produced.ids,
            rest_bodies={"status": produced.rest_bodies.get("status")},
            detail={**produced.detail, "muted_by": "a"},
        )

    async def _h_blocked(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        """A blocks the remote author, who then posts with the tag."""
        if self._remote_id is None:
            raise ScenarioUnsupported(scenario, "no remote account on this target")
        remote_id = self._remote_id
        await self._call("a", "POST", f"/api/v1/accounts/{remote_id}/block")
        self._remember(
            "unblock remote",
            lambda: self._call("a", "POST", f"/api/v1/accounts/{remote_id}/unblock"),
        )
        produced = await self._h_remote(scenario, marker, params)
        return Produced(
            scenario=scenario,
            marker=marker,
            ids=produced.ids,
            rest_bodies=produced.rest_bodies,
            detail={**produced.detail, "blocked_by": "a"},
        )

    async def _h_remote(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        media = scenario == STATUS_REMOTE_MEDIA or bool(params.get("media", False))
        body = await self._call(
            "none",
            "POST",
            "/_reference/remote_statuses",
            json={
                "text": self._text(marker, params),
                "visibility": "public",
                "language": "en",
                "media": media,
            },
            ok=(200, 201),
        )
        status_id = str(body["id"])
        self._remember(
            f"remote status {status_id}",
            lambda: self._call(
                "none", "DELETE", f"/_reference/remote_statuses/{status_id}", ok=(200, 204, 404)
            ),
        )
        return Produced(
            scenario=scenario,
            marker=marker,
            ids={"status": status_id},
            rest_bodies={"status": body},
            detail={
                "author": "remote",
                "visibility": "public",
                "media": media,
                "tag": params.get("tag", self.tag),
            },
        )

    async def _h_announcement(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        body = await self._call(
            "none", "POST", "/_reference/announcements", json={"text": marker}, ok=(200, 201)
        )
        ann_id = str(body["id"])
        self._remember(
            f"announcement {ann_id}",
            lambda: self._call(
                "none", "DELETE", f"/_reference/announcements/{ann_id}", ok=(200, 204, 404)
            ),
        )
        return Produced(
            scenario=scenario,
            marker=marker,
            ids={"announcement": ann_id},
            rest_bodies={"announcement": body},
        )

    async def _h_reaction(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        ann_id = _need(params, "announcement_id", scenario)
        name = params.get("name", "👍")
        path = f"/api/v1/announcements/{ann_id}/reactions/{quote(name, safe='')}"
        await self._call("a", "PUT", path, ok=(200, 204))
        self._remember(
            f"reaction {ann_id}", lambda: self._call("a", "DELETE", path, ok=(200, 204, 404))
        )
        return Produced(
            scenario=scenario, marker=marker, ids={"announcement": ann_id}, detail={"name": name}
        )

    async def _h_ann_delete(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        ann_id = _need(params, "announcement_id", scenario)
        await self._call("none", "DELETE", f"/_reference/announcements/{ann_id}", ok=(200, 204))
        self._forget(f"announcement {ann_id}")
        self._forget(f"reaction {ann_id}")
        return Produced(scenario=scenario, marker=marker, ids={"announcement": ann_id})

    async def _h_revoke(self, scenario: str, marker: str, params: dict[str, Any]) -> Produced:
        assert self._info is not None
        token = self._info.tokens["revocable"]
        await self._call("none", "POST", "/oauth/revoke", data={"token": token})
        return Produced(scenario=scenario, marker=marker, detail={"token_role": "revocable"})


def _account(me: dict[str, Any]) -> Account:
    return Account(id=str(me["id"]), acct=me.get("acct", ""), username=me.get("username", ""))


def _need(params: dict[str, Any], key: str, scenario: str) -> str:
    value = params.get(key)
    if not value:
        raise StimulusError(f"{scenario} needs {key}")
    return str(value)


def _retry_after(value: str | None, default: float = 1.0) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


_Handler = Callable[[RestDriver, str, str, dict[str, Any]], Awaitable[Produced]]
_HANDLERS: dict[str, _Handler] = {
    STATUS_PUBLIC: RestDriver._h_public,
    STATUS_PUBLIC_MEDIA: RestDriver._h_public,
    STATUS_REMOTE: RestDriver._h_remote,
    STATUS_REMOTE_MEDIA: RestDriver._h_remote,
    STATUS_UNLISTED: RestDriver._h_unlisted,
    STATUS_PRIVATE: RestDriver._h_private,
    LIST_MEMBER_STATUS: RestDriver._h_private,
    STATUS_DIRECT: RestDriver._h_direct,
    STATUS_MENTION: RestDriver._h_mention,
    STATUS_OWN: RestDriver._h_own,
    FAVOURITE: RestDriver._h_favourite,
    REBLOG: RestDriver._h_reblog,
    FOLLOW: RestDriver._h_follow,
    STATUS_EDIT: RestDriver._h_edit,
    STATUS_DELETE: RestDriver._h_delete,
    FILTER_CHANGE: RestDriver._h_filter,
    MUTED_AUTHOR: RestDriver._h_muted,
    BLOCKED_AUTHOR: RestDriver._h_blocked,
    ANNOUNCEMENT: RestDriver._h_announcement,
    ANNOUNCEMENT_REACTION: RestDriver._h_reaction,
    ANNOUNCEMENT_DELETE: RestDriver._h_ann_delete,
    TOKEN_REVOKE: RestDriver._h_revoke,
}

__all__ = ["REMOTE_ACCT", "RestDriver"]
