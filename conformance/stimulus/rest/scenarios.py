"""The scenario implementations: which REST calls cause each named event, as A and B would.

Each handler records what it creates in the undo log (``undo.py``) right after the server
honoured it, and returns the ids and REST bodies the delivery judge compares payloads with.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

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
    Produced,
    ScenarioUnsupported,
    SetupInfo,
    StimulusError,
)
from conformance.stimulus.rest.answers import need_id, need_list, need_object
from conformance.stimulus.rest.traces import TraceCleanup

#: A 1x1 transparent PNG: the smallest upload every server accepts as an image.
_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


class ScenarioHandlers(TraceCleanup):
    """Mixin for ``RestDriver``: one ``_h_*`` method per scenario (``HANDLERS``), and helpers."""

    _info: SetupInfo | None
    _remote_id: str | None
    tag: str | None
    allow_public_posts: bool

    async def _is_following(self, who: str, target_id: str) -> bool:
        try:
            rels = await self._call(
                who, "GET", "/api/v1/accounts/relationships", params={"id[]": target_id}
            )
        except StimulusError:
            return False
        rels = need_list(rels, "GET /api/v1/accounts/relationships")
        return bool(rels) and isinstance(rels[0], dict) and rels[0].get("following") is True

    def _text(self, marker: str, params: dict[str, Any], *, with_tag: bool = True) -> str:
        tag = params.get("tag", self.tag)
        return f"{marker} #{tag}" if with_tag and tag else marker

    async def _post_status(self, who: str, body: dict[str, Any]) -> dict[str, Any]:
        status = await self._call(who, "POST", "/api/v1/statuses", json=body)
        status_id = need_id(status, "POST /api/v1/statuses")
        # With media: delete it with the status (Mastodon >= 4.4 keeps it ~24 h otherwise).
        params = {"delete_media": "true"} if body.get("media_ids") else None
        self._remember(
            f"status {status_id}",
            lambda: self._call(
                who, "DELETE", f"/api/v1/statuses/{status_id}", params=params, ok=(200, 404)
            ),
        )
        return need_object(status, "POST /api/v1/statuses")

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
        status_id = need_id(status, "POST /api/v1/statuses")
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
        media_id = need_id(media, "POST /api/v2/media")
        self._remember_media(who, media_id)
        # 202: processed asynchronously; wait until it is usable
        if need_object(media, "POST /api/v2/media").get("url") is None:
            deadline = time.monotonic() + self._timeout
            delay = 0.2
            while time.monotonic() < deadline:
                got = await self._call(who, "GET", f"/api/v1/media/{media_id}", ok=(200, 206))
                if isinstance(got, dict) and got.get("url"):
                    break
                await asyncio.sleep(delay)  # polling a server-side job: no event to wait on
                delay = min(delay * 2, 2.0)
        return media_id

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
        filter_id = need_id(body, "POST /api/v2/filters")
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
        status_id = need_id(body, "POST /_reference/remote_statuses")
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
        ann_id = need_id(body, "POST /_reference/announcements")
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


def _need(params: dict[str, Any], key: str, scenario: str) -> str:
    value = params.get(key)
    if not value:
        raise StimulusError(f"{scenario} needs {key}")
    return str(value)


_Handler = Callable[[ScenarioHandlers, str, str, dict[str, Any]], Awaitable[Produced]]
HANDLERS: dict[str, _Handler] = {
    STATUS_PUBLIC: ScenarioHandlers._h_public,
    STATUS_PUBLIC_MEDIA: ScenarioHandlers._h_public,
    STATUS_REMOTE: ScenarioHandlers._h_remote,
    STATUS_REMOTE_MEDIA: ScenarioHandlers._h_remote,
    STATUS_UNLISTED: ScenarioHandlers._h_unlisted,
    STATUS_PRIVATE: ScenarioHandlers._h_private,
    LIST_MEMBER_STATUS: ScenarioHandlers._h_private,
    STATUS_DIRECT: ScenarioHandlers._h_direct,
    STATUS_MENTION: ScenarioHandlers._h_mention,
    STATUS_OWN: ScenarioHandlers._h_own,
    FAVOURITE: ScenarioHandlers._h_favourite,
    REBLOG: ScenarioHandlers._h_reblog,
    FOLLOW: ScenarioHandlers._h_follow,
    STATUS_EDIT: ScenarioHandlers._h_edit,
    STATUS_DELETE: ScenarioHandlers._h_delete,
    FILTER_CHANGE: ScenarioHandlers._h_filter,
    MUTED_AUTHOR: ScenarioHandlers._h_muted,
    BLOCKED_AUTHOR: ScenarioHandlers._h_blocked,
    ANNOUNCEMENT: ScenarioHandlers._h_announcement,
    ANNOUNCEMENT_REACTION: ScenarioHandlers._h_reaction,
    ANNOUNCEMENT_DELETE: ScenarioHandlers._h_ann_delete,
    TOKEN_REVOKE: ScenarioHandlers._h_revoke,
}
