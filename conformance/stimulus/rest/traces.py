"""Cleanup of what a run *caused* on the target, not only what it created: notifications and
uploaded media.

Why: after a run against a real server, a follow notification, a notification pointing at a
deleted reblog and five uploaded media files stayed behind, and the next run's follow check
failed because that server does not repeat an identical notification. So setup notes each
account's newest notification, and cleanup (last, after every object is gone) dismisses the
newer ones that came from the run's own accounts (``POST /api/v1/notifications/:id/dismiss``);
uploaded media is deleted where the API allows it (``DELETE /api/v1/media/:id``, Mastodon >= 4.4,
unattached media only, so statuses with media are deleted with ``delete_media=true`` first).
What cannot be removed is listed in ``leftovers`` and so in report.json.
"""

from __future__ import annotations

import asyncio

from conformance.stimulus.base import StimulusError
from conformance.stimulus.rest.answers import need_id, need_list
from conformance.stimulus.rest.calls import RestCalls, UnexpectedStatus
from conformance.stimulus.rest.undo import UndoLog

#: Pages of 40 notifications read per account when dismissing (a run causes about ten).
MAX_NOTIFICATION_PAGES = 5
PAGE_SIZE = 40
#: Dismissals in flight at once per account (cleanup time, not server load, is the concern).
DISMISS_CONCURRENCY = 8
_WHO = ("a", "b")


class TraceCleanup(RestCalls, UndoLog):
    """Mixin for ``RestDriver``: dismisses the run's notifications, deletes its uploads."""

    _remote_id: str | None

    async def _watch_notifications(self, a_id: str, b_id: str) -> None:
        """Note each account's newest notification, and remember to dismiss newer ones sent by
        the run's accounts (``a_id``, ``b_id``, and the remote author once known)."""
        since: dict[str, str | None] = {}
        newest = await asyncio.gather(*(self._newest_notification(who) for who in _WHO))
        for who, found in zip(_WHO, newest, strict=True):
            if isinstance(found, StimulusError):
                self.leftovers.append(
                    f"notifications of {who}: cannot be listed, so none will be dismissed ({found})"
                )
            else:
                since[who] = found
        if since:
            self._remember(
                "dismiss notifications",
                lambda: self._dismiss_notifications(since, {a_id, b_id}),
            )

    async def _newest_notification(self, who: str) -> str | StimulusError | None:
        try:
            items = need_list(
                await self._call(who, "GET", "/api/v1/notifications", params={"limit": "1"}),
                "GET /api/v1/notifications",
            )
            return need_id(items[0], "GET /api/v1/notifications") if items else None
        except StimulusError as exc:
            return exc

    async def _dismiss_notifications(self, since: dict[str, str | None], actors: set[str]) -> None:
        actors = actors | ({self._remote_id} if self._remote_id else set())
        await asyncio.gather(
            *(self._dismiss_of(who, since_id, actors) for who, since_id in since.items())
        )

    async def _dismiss_of(self, who: str, since_id: str | None, actors: set[str]) -> None:
        try:
            ids = await self._run_notifications(who, since_id, actors)
        except StimulusError as exc:
            self.leftovers.append(f"notifications of {who}: cannot be listed ({exc})")
            return
        gate = asyncio.Semaphore(DISMISS_CONCURRENCY)

        async def dismiss(notification_id: str) -> None:
            async with gate:
                try:
                    await self._call(
                        who, "POST", f"/api/v1/notifications/{notification_id}/dismiss"
                    )
                except StimulusError as exc:
                    self.leftovers.append(f"notification {notification_id} of {who}: {exc}")

        await asyncio.gather(*(dismiss(n) for n in ids))

    async def _run_notifications(
        self, who: str, since_id: str | None, actors: set[str]
    ) -> list[str]:
        """Ids of ``who``'s notifications newer than ``since_id`` sent by the run's accounts."""
        found: list[str] = []
        max_id: str | None = None
        for _page in range(MAX_NOTIFICATION_PAGES):
            params = {"limit": str(PAGE_SIZE)}
            if since_id is not None:
                params["since_id"] = since_id
            if max_id is not None:
                params["max_id"] = max_id
            items = need_list(
                await self._call(who, "GET", "/api/v1/notifications", params=params),
                "GET /api/v1/notifications",
            )
            if not items:
                break
            for item in items:
                notification_id = need_id(item, "GET /api/v1/notifications")
                account = item.get("account")
                sender = account.get("id") if isinstance(account, dict) else None
                if str(sender) in actors and notification_id not in found:
                    found.append(notification_id)
            if len(items) < PAGE_SIZE:
                break  # the last page
            max_id = need_id(items[-1], "GET /api/v1/notifications")
        return found

    def _remember_media(self, who: str, media_id: str) -> None:
        self._remember(f"media {media_id}", lambda: self._delete_media(who, media_id))

    async def _delete_media(self, who: str, media_id: str) -> None:
        """Gone already (deleted with its status, ``delete_media=true``)? Else delete it."""
        try:
            await self._call(who, "GET", f"/api/v1/media/{media_id}", ok=(200, 206))
        except UnexpectedStatus as exc:
            if exc.status == 404:
                return
        try:
            await self._call(who, "DELETE", f"/api/v1/media/{media_id}", ok=(200, 204))
        except UnexpectedStatus as refused:
            raise StimulusError(
                f"uploaded by {who}, still there: DELETE /api/v1/media/{media_id} answered "
                f"HTTP {refused.status} (the API deletes media from Mastodon 4.4)"
            ) from None
