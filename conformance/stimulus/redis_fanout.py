"""What Rails publishes to Redis for each stimulus scenario: pure builders, no I/O.

Each scenario of ``conformance.stimulus.base`` becomes the ordered list of ``(channel, message)``
pairs Mastodon's Rails side would publish for it (notes §9): FanOutOnWriteService (the author's
own home, mention notifications, followers' homes and lists, hashtag and public channels),
NotifyService, PushConversationWorker, RemoveStatusService, the announcement workers, the
CustomFilter cache invalidation and Doorkeeper's ``kill``. Rails checks the
``subscribed:<channel>`` keys the streaming server keeps before publishing home, list,
notification, conversation and announcement events; the caller passes the set of channels whose
key exists, so the builder stays pure and the same fan-out is testable against the captures.

Actors follow ``base``: A (``cast.a``) is the viewer and follows B; B (``cast.b``) causes most
events and is a member of A's list; R (``cast.remote``) is a remote author nobody follows.
``FanOut`` remembers what it created (statuses, announcements) so edits, deletes, reblogs and
reactions can refer to them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from conformance.stimulus import base
from conformance.stimulus.redis_cast import NEEDS_DATABASE, Cast, Plan, Publish, Snowflakes
from conformance.stimulus.redis_fanout_events import OtherEvents
from conformance.stimulus.redis_render import (
    Person,
    StatusSpec,
    iso_ms,
    render_conversation,
    render_notification,
    render_status,
)
from conformance.stimulus.redis_tags import hashtag_channels


class FanOut(OtherEvents):
    """Builds scenarios for one cast; remembers created objects. Pure: the caller does the I/O."""

    def __init__(
        self,
        cast: Cast,
        *,
        now: Callable[[], datetime] | None = None,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.cast = cast
        self._now = now or (lambda: datetime.now(UTC))
        self._new_id = new_id or Snowflakes()
        self._small_ids = itertools.count(1)
        self.statuses: dict[str, StatusSpec] = {}
        self.created: list[str] = []  # ids of statuses this fan-out made (not adopted ones)
        self.announcements: list[str] = []
        self.reactions: dict[tuple[str, str], int] = {}

    # --- which subscribed:* keys matter --------------------------------------------------------

    def recipient_channels(self) -> list[str]:
        """Channels whose ``subscribed:<channel>`` key Rails consults for this cast."""
        out: list[str] = []
        for person in (self.cast.a, self.cast.b):
            out += [
                f"timeline:{person.id}",
                f"timeline:{person.id}:notifications",
                f"timeline:direct:{person.id}",
            ]
        if self.cast.list_id is not None:
            out.append(f"timeline:list:{self.cast.list_id}")
        return out

    # --- entry point ---------------------------------------------------------------------------

    def unsupported_reason(self, scenario: str, **params: Any) -> str | None:
        if scenario in NEEDS_DATABASE:
            return NEEDS_DATABASE[scenario]
        if scenario == base.TOKEN_REVOKE and not params.get("token_id"):
            return "the revocable token's id is unknown (needed for timeline:access_token:<id>)"
        if scenario not in self._builders():
            return "not a scenario the Redis driver knows"
        return None

    def build(self, scenario: str, marker: str, subscribed: Collection[str], **params: Any) -> Plan:
        """The publishes for ``scenario``; ``subscribed`` = channels whose key exists."""
        reason = self.unsupported_reason(scenario, **params)
        if reason is not None:
            raise base.ScenarioUnsupported(scenario, reason)
        plan = Plan(scenario=scenario, marker=marker)
        self._builders()[scenario](plan, frozenset(subscribed), params)
        return plan

    def _builders(self) -> dict[str, Callable[[Plan, frozenset[str], dict[str, Any]], None]]:
        return {
            base.STATUS_PUBLIC: self._status_public,
            base.STATUS_PUBLIC_MEDIA: self._status_public_media,
            base.STATUS_REMOTE: self._status_remote,
            base.STATUS_REMOTE_MEDIA: self._status_remote_media,
            base.STATUS_UNLISTED: self._status_unlisted,
            base.STATUS_PRIVATE: self._status_private,
            base.STATUS_DIRECT: self._status_direct,
            base.STATUS_MENTION: self._status_mention,
            base.STATUS_OWN: self._status_own,
            base.FAVOURITE: self._favourite,
            base.REBLOG: self._reblog,
            base.FOLLOW: self._follow,
            base.STATUS_EDIT: self._status_edit,
            base.STATUS_DELETE: self._status_delete,
            base.LIST_MEMBER_STATUS: self._status_private,
            base.FILTER_CHANGE: self._filter_change,
            base.ANNOUNCEMENT: self._announcement,
            base.ANNOUNCEMENT_REACTION: self._announcement_reaction,
            base.ANNOUNCEMENT_DELETE: self._announcement_delete,
            base.NOTIFICATIONS_MERGED: self._notifications_merged,
            base.TOKEN_REVOKE: self._token_revoke,
        }

    # --- status creation -----------------------------------------------------------------------

    def _new_status(
        self,
        author: Person,
        marker: str,
        params: dict[str, Any],
        *,
        visibility: str,
        media: bool = False,
        mentions: tuple[Person, ...] = (),
        with_tag: bool = True,
    ) -> StatusSpec:
        if params.get("author") == "remote":
            author = self.cast.remote
        elif params.get("author") == "a":
            author = self.cast.a
        elif params.get("author") == "b":
            author = self.cast.b
        tag = str(params.get("tag") or marker)
        status_id = self._new_id()
        spec = StatusSpec(
            id=status_id,
            author=author,
            created_at=iso_ms(self._now()),
            visibility=str(params.get("visibility") or visibility),
            text=str(params.get("text") or f"{marker} conformance test status"),
            tags=(tag,) if with_tag else (),
            mentions=mentions,
            media_id=self._new_id() if (media or params.get("media")) else None,
            language=params.get("language", "en"),
            local_host=self.cast.local_host,
        )
        self.statuses[status_id] = spec
        self.created.append(status_id)
        return spec

    def _created(self, plan: Plan, spec: StatusSpec) -> None:
        plan.ids["status"] = spec.id
        viewer = self.cast.a.id if self.cast.a.id in self._home_recipients(spec) else None
        plan.bodies["status"] = render_status(spec, viewer=viewer)
        plan.detail["viewer"] = "a" if viewer else None
        plan.detail["visibility"] = spec.visibility
        plan.detail["author"] = self._role(spec.author)
        plan.detail["media"] = spec.has_media

    def _role(self, person: Person) -> str:
        """``a``, ``b`` or ``remote``: the actor roles of ``base`` (as the REST driver reports)."""
        if person.id == self.cast.a.id:
            return "a"
        return "b" if person.id == self.cast.b.id else "remote"

    def _status_public(
        self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]
    ) -> None:
        spec = self._new_status(self.cast.b, plan.marker, params, visibility="public")
        self._fan_out(plan, spec, subscribed)
        self._created(plan, spec)

    def _status_public_media(
        self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]
    ) -> None:
        spec = self._new_status(self.cast.b, plan.marker, params, visibility="public", media=True)
        self._fan_out(plan, spec, subscribed)
        self._created(plan, spec)

    def _status_remote(
        self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]
    ) -> None:
        spec = self._new_status(self.cast.remote, plan.marker, params, visibility="public")
        self._fan_out(plan, spec, subscribed)
        self._created(plan, spec)

    def _status_remote_media(
        self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]
    ) -> None:
        spec = self._new_status(
            self.cast.remote, plan.marker, params, visibility="public", media=True
        )
        self._fan_out(plan, spec, subscribed)
        self._created(plan, spec)

    def _status_unlisted(
        self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]
    ) -> None:
        spec = self._new_status(self.cast.b, plan.marker, params, visibility="unlisted")
        self._fan_out(plan, spec, subscribed)
        self._created(plan, spec)

    def _status_private(
        self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]
    ) -> None:
        spec = self._new_status(self.cast.b, plan.marker, params, visibility="private")
        self._fan_out(plan, spec, subscribed)
        self._created(plan, spec)

    def _status_direct(
        self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]
    ) -> None:
        spec = self._new_status(
            self.cast.b,
            plan.marker,
            params,
            visibility="direct",
            mentions=(self.cast.a,),
            with_tag=False,
        )
        self._fan_out(plan, spec, subscribed)
        self._created(plan, spec)

    def _status_mention(
        self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]
    ) -> None:
        spec = self._new_status(
            self.cast.b, plan.marker, params, visibility="unlisted", mentions=(self.cast.a,)
        )
        self._fan_out(plan, spec, subscribed)
        self._created(plan, spec)

    def _status_own(self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]) -> None:
        spec = self._new_status(self.cast.a, plan.marker, params, visibility="unlisted")
        self._fan_out(plan, spec, subscribed)
        self._created(plan, spec)

    # --- FanOutOnWriteService ------------------------------------------------------------------

    def _followers(self, author: Person) -> list[Person]:
        return [self.cast.a] if author.id == self.cast.b.id else []

    def _lists_of(self, author: Person) -> list[str]:
        if author.id == self.cast.b.id and self.cast.list_id is not None:
            return [self.cast.list_id]
        return []

    def _local(self, person_id: str) -> Person | None:
        for person in (self.cast.a, self.cast.b):
            if person.id == person_id:
                return person
        return None

    def _home_recipients(self, spec: StatusSpec) -> list[str]:
        """Account ids whose home feed holds ``spec`` (deliver_to_self + followers)."""
        out: list[str] = []
        if spec.author.local:
            out.append(spec.author.id)
        mentioned = {p.id for p in spec.mentions}
        for follower in self._followers(spec.author):
            if spec.visibility == "direct" and follower.id not in mentioned:
                continue
            if spec.reblog_of is not None and spec.reblog_of.author.id == follower.id:
                continue  # FeedManager: the original is already in the feed (reblog falloff)
            if follower.id not in out:
                out.append(follower.id)
        return out

    def _list_recipients(self, spec: StatusSpec) -> list[str]:
        if spec.visibility == "direct":
            return []
        return self._lists_of(spec.author)

    def _fan_out(self, plan: Plan, spec: StatusSpec, subscribed: frozenset[str]) -> None:
        """FanOutOnWriteService#call: a new status (``update``) or an edit (``status.update``)."""
        update = spec.edited_at is not None
        event = "status.update" if update else "update"
        author = spec.author
        homes = self._home_recipients(spec)

        if author.local and f"timeline:{author.id}" in subscribed:  # deliver_to_self!
            plan.add(f"timeline:{author.id}", event, render_status(spec, viewer=author.id))
        for mentioned in spec.mentions:  # notify_mentioned_accounts!
            if mentioned.id == author.id or self._local(mentioned.id) is None:
                continue
            if update:
                if self._notifications_subscribed(mentioned.id, subscribed):
                    plan.add(
                        f"timeline:{mentioned.id}:notifications",
                        event,
                        render_status(spec, viewer=mentioned.id),
                    )
            else:
                self._notify(plan, subscribed, "mention", mentioned, author, spec)
                if spec.visibility == "direct":
                    self._conversation(plan, subscribed, mentioned, spec)
        for recipient in homes:  # deliver_to_all_followers! / deliver_to_mentioned_followers!
            if recipient == author.id:
                continue
            if f"timeline:{recipient}" in subscribed:
                plan.add(f"timeline:{recipient}", event, render_status(spec, viewer=recipient))
        for list_id in self._list_recipients(spec):  # deliver_to_lists!
            channel = f"timeline:list:{list_id}"
            if channel in subscribed:
                plan.add(channel, event, render_status(spec, viewer=self.cast.a.id))
        if spec.visibility == "direct" and not update and author.local:  # deliver_to_conversation!
            self._conversation(plan, subscribed, author, spec)
        if spec.visibility == "public" and spec.reblog_of is None:  # broadcastable?
            anonymous = render_status(spec, viewer=None)
            for channel in self._public_channels(spec):
                plan.add(channel, event, anonymous)

    def _public_channels(self, spec: StatusSpec) -> list[str]:
        """broadcast_to_hashtag_streams! then broadcast_to_public_streams!, in Rails' order."""
        out: list[str] = []
        for tag in spec.tags:
            out += hashtag_channels(tag, local=spec.local)
        if spec.visibility != "public" or spec.reblog_of is not None:
            return out
        side = "local" if spec.local else "remote"
        out += ["timeline:public", f"timeline:public:{side}"]
        if spec.has_media:
            out += ["timeline:public:media", f"timeline:public:{side}:media"]
        return out

    # --- notifications and conversations -------------------------------------------------------

    def _notify(
        self,
        plan: Plan,
        subscribed: frozenset[str],
        kind: str,
        recipient: Person,
        from_account: Person,
        status: StatusSpec | None,
    ) -> None:
        """NotifyService: a notification for ``recipient``, published if they stream."""
        notification_id = str(next(self._small_ids) + 4100)
        group = {
            "mention": f"ungrouped-{notification_id}",
            "follow": f"follow-{notification_id}",
        }.get(kind, f"{kind}-{status.id if status else ''}-{notification_id}")
        payload = render_notification(
            notification_id=notification_id,
            kind=kind,
            group_key=group,
            created_at=iso_ms(self._now()),
            from_account=from_account,
            status=status,
            viewer=recipient.id,
            local_host=self.cast.local_host,
        )
        plan.ids.setdefault("notification", notification_id)
        plan.ids.setdefault("notification_target", recipient.id)
        plan.bodies.setdefault("notification", payload)
        if self._notifications_subscribed(recipient.id, subscribed):
            plan.add(f"timeline:{recipient.id}:notifications", "notification", payload)

    def _conversation(
        self, plan: Plan, subscribed: frozenset[str], owner: Person, spec: StatusSpec
    ) -> None:
        """AccountConversation -> PushConversationWorker for one participant."""
        participants = [spec.author, *spec.mentions]
        others = [p for p in participants if p.id != owner.id]
        conversation_id = str(next(self._small_ids) + 1500)
        payload = render_conversation(
            conversation_id=conversation_id, others=others, last_status=spec, viewer=owner.id
        )
        if owner.id == self.cast.a.id:
            plan.ids["conversation"] = conversation_id
            plan.bodies["conversation"] = payload
        channel = f"timeline:direct:{owner.id}"
        if channel in subscribed:
            plan.add(channel, "conversation", payload)

    def _target_status(self, params: dict[str, Any], *, prefer: Person | None) -> StatusSpec:
        status_id = params.get("status_id")
        if status_id is not None:
            found = self.statuses.get(str(status_id))
            if found is not None:
                return found
            # Not ours: render a plausible public status of the preferred author with that id.
            author = prefer or self.cast.b
            spec = StatusSpec(
                id=str(status_id),
                author=author,
                created_at=iso_ms(self._now()),
                visibility="public",
                text="conformance test status",
                local_host=self.cast.local_host,
            )
            self.statuses[spec.id] = spec
            return spec
        candidates = [
            s
            for s in self.statuses.values()
            if s.reblog_of is None and (prefer is None or s.author.id == prefer.id)
        ]
        if not candidates:
            raise base.StimulusError("no status to act on: pass status_id or create one first")
        return candidates[-1]

    def _favourite(self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]) -> None:
        target = self._target_status(params, prefer=self.cast.a)
        actor = self._actor(params)
        recipient = self._local(target.author.id)
        if recipient is not None and recipient.id != actor.id:
            self._notify(plan, subscribed, "favourite", recipient, actor, target)
        plan.ids["status"] = target.id

    def _reblog(self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]) -> None:
        target = self._target_status(
            params, prefer=None if params.get("status_id") else self.cast.a
        )
        wrapper = StatusSpec(
            id=self._new_id(),
            author=self.cast.b,
            created_at=iso_ms(self._now()),
            visibility="public",
            reblog_of=target,
            local_host=self.cast.local_host,
        )
        self.statuses[wrapper.id] = wrapper
        self.created.append(wrapper.id)
        self._fan_out(plan, wrapper, subscribed)  # ReblogService -> DistributionWorker
        recipient = self._local(target.author.id)
        if recipient is not None and recipient.id != self.cast.b.id:
            # Notification#target_status of a reblog is the original status, not the wrapper.
            self._notify(plan, subscribed, "reblog", recipient, self.cast.b, target)
        plan.ids["status"] = target.id
        plan.ids["reblog"] = wrapper.id

    def _actor(self, params: dict[str, Any]) -> Person:
        """Who acts on A's things: B, or the remote account with ``author="remote"``."""
        return self.cast.remote if params.get("author") == "remote" else self.cast.b

    def _follow(self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]) -> None:
        actor = self._actor(params)
        self._notify(plan, subscribed, "follow", self.cast.a, actor, None)
        plan.ids["account"] = actor.id

    # --- edits and deletes ---------------------------------------------------------------------

    def _status_edit(self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]) -> None:
        target = self._target_status(
            params, prefer=None if params.get("status_id") else self.cast.b
        )
        if target.reblog_of is not None:
            raise base.StimulusError("a reblog cannot be edited")
        edited = replace(
            target,
            text=str(params.get("text") or f"{target.text} (edited)"),
            edited_at=iso_ms(self._now()),
        )
        self.statuses[edited.id] = edited
        self._fan_out(plan, edited, subscribed)
        self._created(plan, edited)

    def _status_delete(
        self, plan: Plan, subscribed: frozenset[str], params: dict[str, Any]
    ) -> None:
        target = self._target_status(
            params, prefer=None if params.get("status_id") else self.cast.b
        )
        for channel in self.delete_channels(target):
            plan.add(channel, "delete", target.id)
        self.statuses.pop(target.id, None)
        plan.ids["status"] = target.id

    def delete_channels(self, spec: StatusSpec) -> list[str]:
        """RemoveStatusService: every feed holding the status, then hashtag/public/media.

        ``delete`` is published without consulting ``subscribed:*`` keys.
        """
        out = [f"timeline:{account_id}" for account_id in self._home_recipients(spec)]
        out += [f"timeline:list:{list_id}" for list_id in self._list_recipients(spec)]
        if spec.visibility == "public" and spec.reblog_of is None:
            out += self._public_channels(spec)
        return out

    def standing(self) -> list[StatusSpec]:
        """Statuses this fan-out created and nobody deleted yet, newest first (for cleanup)."""
        return [self.statuses[i] for i in reversed(self.created) if i in self.statuses]

    def forget(self, status_id: str) -> StatusSpec | None:
        return self.statuses.pop(status_id, None)


__all__ = ["NEEDS_DATABASE", "Cast", "FanOut", "Person", "Plan", "Publish", "Snowflakes"]
