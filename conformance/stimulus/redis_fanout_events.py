"""Rails' publishers other than status fan-out: filters, announcements, merges and ``kill``.

``FanOut`` mixes this in; the methods build into a ``Plan`` from the cast and the set of
channels whose ``subscribed:*`` key exists, exactly like the status builders (notes §9:
CustomFilter cache invalidation, PublishScheduledAnnouncementWorker, PublishAnnouncementReaction-
and UnpublishAnnouncementWorker, UnfilterNotificationsWorker, Doorkeeper's token revocation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from conformance.stimulus import base
from conformance.stimulus.redis_cast import Cast, Plan
from conformance.stimulus.redis_render import Person, iso_ms, render_announcement


class OtherEvents:
    """The non-status builders of ``FanOut`` (needs ``cast``, ``_now``, ``_small_ids``,
    ``announcements``, ``reactions`` and ``_notifications_subscribed`` from it)."""

    cast: Cast
    _now: Callable[[], datetime]
    _small_ids: Iterator[int]
    announcements: list[str]
    reactions: dict[tuple[str, str], int]

    @staticmethod
    def _notifications_subscribed(account_id: str, subscribed: frozenset[str]) -> bool:
        return (
            f"timeline:{account_id}" in subscribed
            or f"timeline:{account_id}:notifications" in subscribed
        )

    def _filter_change(
        self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]
    ) -> None:
        account = self.cast.a.id
        plan.add(f"timeline:{account}", "filters_changed")
        plan.add(f"timeline:system:{account}", "filters_changed")
        plan.ids["filter"] = str(params.get("filter_id") or next(self._small_ids) + 10)

    def _active_accounts(self) -> list[Person]:
        return [self.cast.a, self.cast.b]

    def _announcement(self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]) -> None:
        announcement_id = str(next(self._small_ids) + 7)
        now = self._now()
        payload = render_announcement(
            announcement_id=announcement_id,
            text=str(params.get("text") or f"{plan.marker} conformance announcement"),
            published_at=iso_ms(now),
            starts_at=iso_ms(now),
            ends_at=iso_ms(now + timedelta(hours=1)),
        )
        self.announcements.append(announcement_id)
        for person in self._active_accounts():
            if f"timeline:{person.id}" in subscribed:
                plan.add(f"timeline:{person.id}", "announcement", payload)
        plan.ids["announcement"] = announcement_id
        plan.bodies["announcement"] = payload

    def _announcement_id(self, params: dict[str, Any]) -> str:
        if params.get("announcement_id") is not None:
            return str(params["announcement_id"])
        if not self.announcements:
            raise base.StimulusError("no announcement to act on: pass announcement_id")
        return self.announcements[-1]

    def _announcement_reaction(
        self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]
    ) -> None:
        announcement_id = self._announcement_id(params)
        name = str(params.get("name") or "👍")
        count = int(params.get("count", self.reactions.get((announcement_id, name), 0) + 1))
        self.reactions[(announcement_id, name)] = count
        payload: dict[str, Any] = {"name": name, "count": count}
        if params.get("url"):  # a custom emoji carries its image URLs
            payload["url"] = str(params["url"])
            payload["static_url"] = str(params.get("static_url") or params["url"])
        payload["announcement_id"] = announcement_id
        for person in self._active_accounts():
            if f"timeline:{person.id}" in subscribed:
                plan.add(f"timeline:{person.id}", "announcement.reaction", payload)
        plan.ids["announcement"] = announcement_id
        plan.bodies["reaction"] = payload

    def _announcement_delete(
        self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]
    ) -> None:
        announcement_id = self._announcement_id(params)
        for person in self._active_accounts():
            if f"timeline:{person.id}" in subscribed:
                plan.add(f"timeline:{person.id}", "announcement.delete", announcement_id)
        if announcement_id in self.announcements:
            self.announcements.remove(announcement_id)
        plan.ids["announcement"] = announcement_id

    def _notifications_merged(
        self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]
    ) -> None:
        account = self.cast.a.id
        if self._notifications_subscribed(account, subscribed):
            plan.add(f"timeline:{account}:notifications", "notifications_merged", "1")
        plan.ids["notification_target"] = account

    def _token_revoke(self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]) -> None:
        plan.add(f"timeline:access_token:{params['token_id']}", "kill")
        plan.detail["token_id"] = str(params["token_id"])


__all__ = ["OtherEvents"]
