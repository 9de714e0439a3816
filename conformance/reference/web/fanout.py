"""Publishing to bus channels exactly as Mastodon's Rails side publishes to Redis.

Mirrors FanOutOnWriteService, FeedManager (push/unpush home and list), RemoveStatusService,
NotifyService, PushConversationWorker, the announcement workers, CustomFilter's cache
invalidation and the ``kill`` publishers (mastodon-streaming.md §9). Per-recipient events go out
only while ``subscribed:<channel>`` exists (``bus.is_subscribed``); public and hashtag channels
and ``delete``/``filters_changed``/``kill`` are published unconditionally, as Rails does.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.reference import faults
from conformance.reference.store import Announcement, Conversation, Notification, Status, Store
from conformance.reference.web.render import Renderer

_NO_PAYLOAD = object()


def encode(event: str, payload: Any = _NO_PAYLOAD) -> str:
    message: dict[str, Any] = {"event": event}
    if payload is not _NO_PAYLOAD:
        message["payload"] = payload
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def _leaked(visibility: str) -> bool:
    """``leak-unlisted`` / ``-direct`` / ``-private``: a non-public status treated as public
    (FAULT)."""
    return (
        (visibility == "unlisted" and faults.active("leak-unlisted"))
        or (visibility == "direct" and faults.active("leak-direct"))
        or (visibility == "private" and faults.active("leak-private"))
    )


def _where(local: bool) -> str:
    """Which public timeline a status belongs to (swapped by ``local-as-remote`` /
    ``remote-as-local``, FAULT)."""
    if faults.active("local-as-remote" if local else "remote-as-local"):
        local = not local
    return "local" if local else "remote"


def _to_followers(visibility: str) -> bool:
    """Whether a status reaches its author's followers' home and list feeds (FAULT:
    ``followers-get-public-only`` keeps unlisted and followers-only statuses out)."""
    if visibility in ("unlisted", "private") and faults.active("followers-get-public-only"):
        return False
    return visibility in ("public", "unlisted", "private")


class FanOut:
    def __init__(self, store: Store, bus: Any, renderer: Renderer) -> None:
        self.store = store
        self.bus = bus
        self.render = renderer

    async def publish(self, channel: str, event: str, payload: Any = _NO_PAYLOAD) -> None:
        if faults.active("status-missing-account") and event in ("update", "status.update"):
            payload = {k: v for k, v in payload.items() if k != "account"}  # FAULT
        if faults.active("payload-not-json") and event == "conversation":
            payload = str(payload)  # FAULT: a Python repr, not JSON
        await self.bus.publish(channel, encode(event, payload))

    async def subscribed(self, channel: str) -> bool:
        return bool(await self.bus.is_subscribed(channel))

    # ------------------------------------------------------------------ statuses

    async def distribute(self, status: Status, *, update: bool = False) -> None:
        """FanOutOnWriteService#call: local recipients, then public and hashtag streams."""
        store = self.store
        author = store.accounts[status.account_id]
        event = "status.update" if update else "update"
        if faults.active("edit-as-update"):  # FAULT
            event = "update"
        if author.local and not faults.active("no-own-home"):  # FAULT
            await self._push_home(author.id, status, event)
        await self._notify_mentioned(status, update=update)
        if update:
            await self._notify_rebloggers(status)
        if _to_followers(status.visibility):  # FAULT: _to_followers
            for follower_id in store.followers_of(author.id):
                if store.accounts[follower_id].local:
                    await self._push_home(follower_id, status, event)
            for lst in () if faults.active("no-list-push") else store.lists_containing(author.id):
                await self._push_list(lst.id, status, event)  # FAULT: no-list-push above
        elif status.visibility == "direct":
            for account_id in status.mention_ids:
                account = store.accounts.get(account_id)
                if account and account.local and store.is_following(account_id, author.id):
                    await self._push_home(account_id, status, event)
            if not update and not faults.active("no-conversation"):  # FAULT
                await self._deliver_to_conversation(status)
        public = status.visibility == "public" or _leaked(status.visibility)  # FAULT: _leaked
        if public and status.reblog_of_id is None:
            await self._broadcast_public(status, event)

    async def _broadcast_public(self, status: Status, event: str) -> None:
        author = self.store.accounts[status.account_id]
        payload = self.render.status(status)
        for tag in status.tags:
            if not faults.active("drop-hashtag"):  # FAULT
                await self.publish(f"timeline:hashtag:{tag.lower()}", event, payload)
            if author.local and not faults.active("drop-hashtag-local"):  # FAULT
                await self.publish(f"timeline:hashtag:{tag.lower()}:local", event, payload)
        if status.in_reply_to_id is not None and status.in_reply_to_account_id != author.id:
            return
        where = _where(author.local)  # FAULT: local-as-remote, remote-as-local
        await self.publish("timeline:public", event, payload)
        await self.publish(f"timeline:public:{where}", event, payload)
        if status.media_ids and not faults.active("drop-media-timelines"):  # FAULT
            await self.publish("timeline:public:media", event, payload)
            await self.publish(f"timeline:public:{where}:media", event, payload)

    async def _push_home(self, recipient_id: str, status: Status, event: str) -> None:
        store = self.store
        if self.filter_from_home(status, recipient_id):
            return
        feed = store.home_feeds.setdefault(recipient_id, [])
        if status.reblog_of_id and event == "update" and self._reblog_aggregated(feed, status):
            return
        store.feed_insert(feed, status.id)
        channel = f"timeline:{recipient_id}"
        if await self.subscribed(channel):
            await self.publish(channel, event, self.render.status(status, recipient_id))

    async def _push_list(self, list_id: str, status: Status, event: str) -> None:
        store = self.store
        lst = store.lists[list_id]
        if self.filter_from_home(status, lst.account_id) or self._filter_from_list(status, lst.id):
            return
        store.feed_insert(store.list_feed(list_id), status.id)
        channel = f"timeline:list:{list_id}"
        if await self.subscribed(channel):
            await self.publish(channel, event, self.render.status(status, lst.account_id))

    def _reblog_aggregated(self, feed: list[str], reblog: Status) -> bool:
        original = reblog.reblog_of_id
        return original in feed or any(
            (s := self.store.statuses.get(sid)) is not None and s.reblog_of_id == original
            for sid in feed
            if sid != reblog.id
        )

    def filter_from_home(self, status: Status, receiver_id: str) -> bool:
        """FeedManager#filter_from_home? (the parts that depend on what the store models)."""
        store = self.store
        if receiver_id == status.account_id:
            return False
        author = store.accounts[status.account_id]
        check = [status.account_id, *status.mention_ids]
        if status.in_reply_to_account_id:
            check.append(status.in_reply_to_account_id)
        original = store.statuses.get(status.reblog_of_id) if status.reblog_of_id else None
        if original is not None:
            check.append(original.account_id)
        if store.blocks_or_mutes_any(receiver_id, check):
            return True
        if author.domain and store.blocks_domain(receiver_id, author.domain):
            return True
        if original is not None:
            original_author = store.accounts[original.account_id]
            if original_author.domain and store.blocks_domain(receiver_id, original_author.domain):
                return True
        reply_to = status.in_reply_to_account_id
        return bool(
            reply_to
            and reply_to != status.account_id
            and reply_to != receiver_id
            and not store.is_following(receiver_id, reply_to)
        )

    def _filter_from_list(self, status: Status, list_id: str) -> bool:
        lst = self.store.lists[list_id]
        reply_to = status.in_reply_to_account_id
        if not reply_to or reply_to == status.account_id:
            return False
        if lst.replies_policy == "none":
            return True
        if lst.replies_policy == "followed":
            return not self.store.is_following(lst.account_id, reply_to)
        return reply_to not in lst.member_ids

    async def _deliver_to_conversation(self, status: Status) -> None:
        store = self.store
        participants = [status.account_id, *status.mention_ids]
        for account_id in dict.fromkeys(participants):
            account = store.accounts.get(account_id)
            if account is None or not account.local:
                continue
            others = [p for p in dict.fromkeys(participants) if p != account_id]
            conversation = store.conversation_for(account_id, others)
            if conversation is None:
                conversation = Conversation(
                    id=store.serial("conversation"),
                    account_id=account_id,
                    participant_ids=others,
                    last_status_id=status.id,
                )
                store.conversations[conversation.id] = conversation
            conversation.last_status_id = status.id
            conversation.unread = account_id != status.account_id
            channel = f"timeline:direct:{account_id}"
            if await self.subscribed(channel):
                await self.publish(channel, "conversation", self.render.conversation(conversation))

    async def _notify_mentioned(self, status: Status, *, update: bool) -> None:
        for account_id in status.mention_ids:
            account = self.store.accounts.get(account_id)
            if account is None or not account.local or account_id == status.account_id:
                continue
            if not update:
                await self.notify(account_id, status.account_id, "mention", status.id)
                continue
            channel = f"timeline:{account_id}:notifications"
            if await self.subscribed(channel):
                payload = self.render.status(status, account_id)
                await self.publish(channel, "status.update", payload)

    async def _notify_rebloggers(self, status: Status) -> None:
        for reblog in self.store.reblogs_of(status.id):
            await self.notify(reblog.account_id, status.account_id, "update", status.id)

    async def remove(self, status: Status) -> None:
        """RemoveStatusService#remove_status; marks the status deleted."""
        store = self.store
        author = store.accounts[status.account_id]
        payload: Any = status.id
        if faults.active("sse-delete-json-object"):  # FAULT
            payload = {"id": status.id}
        for account_id, feed in store.home_feeds.items():
            if store.feed_remove(feed, status.id):
                await self.publish(f"timeline:{account_id}", "delete", payload)
        for list_id, feed in store.list_feeds.items():
            if store.feed_remove(feed, status.id):
                await self.publish(f"timeline:list:{list_id}", "delete", payload)
        status.deleted = True
        if status.reblog_of_id is not None:
            return
        for reblog in store.reblogs_of(status.id):
            await self.remove(reblog)
        if status.visibility != "public" and not _leaked(status.visibility):  # FAULT: _leaked
            return
        for tag in () if faults.active("no-delete-on-hashtag") else status.tags:  # FAULT
            await self.publish(f"timeline:hashtag:{tag.lower()}", "delete", payload)
            if author.local:
                await self.publish(f"timeline:hashtag:{tag.lower()}:local", "delete", payload)
        where = "local" if author.local else "remote"
        await self.publish("timeline:public", "delete", payload)
        await self.publish(f"timeline:public:{where}", "delete", payload)
        if status.media_ids:
            await self.publish("timeline:public:media", "delete", payload)
            await self.publish(f"timeline:public:{where}:media", "delete", payload)

    # ------------------------------------------------------------------ notifications

    async def notify(
        self, recipient_id: str, from_id: str, type_: str, status_id: str | None
    ) -> Notification | None:
        """NotifyService: store the notification, push it if the recipient streams."""
        store = self.store
        recipient = store.accounts.get(recipient_id)
        sender = store.accounts.get(from_id)
        if recipient is None or sender is None or not recipient.local or recipient_id == from_id:
            return None
        mute = store.mutes.get((recipient_id, from_id))
        if (recipient_id, from_id) in store.blocks or (mute is not None and mute.notifications):
            return None
        if sender.domain and store.blocks_domain(recipient_id, sender.domain):
            return None
        same = (recipient_id, from_id, type_, status_id)
        if faults.active("dedupe-notifications") and any(  # KNOB: an identical one exists
            (n.account_id, n.from_account_id, n.type, n.status_id) == same
            for n in store.notifications.values()
        ):
            return None
        notification = store.add_notification(recipient_id, from_id, type_, status_id)
        if faults.active("notifications-not-streamed"):  # FAULT
            return notification
        if await self.subscribed(f"timeline:{recipient_id}") or await self.subscribed(
            f"timeline:{recipient_id}:notifications"
        ):
            await self.publish(
                f"timeline:{recipient_id}:notifications",
                "notification",
                self.render.notification(notification),
            )
        return notification

    # ------------------------------------------------------------------ everything else

    async def filters_changed(self, account_id: str) -> None:
        if faults.active("filters-changed-with-payload"):  # FAULT
            await self.publish(f"timeline:{account_id}", "filters_changed", {"changed": True})
        else:
            await self.publish(f"timeline:{account_id}", "filters_changed")
        await self.publish(f"timeline:system:{account_id}", "filters_changed")

    async def _to_active_users(self, event: str, payload: Any) -> None:
        if faults.active("announcements-not-streamed") and event.startswith("announcement"):
            return  # FAULT
        for account in list(self.store.accounts.values()):
            if not account.local or account.disabled or account.suspended:
                continue
            channel = f"timeline:{account.id}"
            if await self.subscribed(channel):
                await self.publish(channel, event, payload)

    async def announcement(self, announcement: Announcement) -> None:
        await self._to_active_users("announcement", self.render.announcement(announcement))

    async def announcement_reaction(self, announcement: Announcement, name: str) -> None:
        count = len(announcement.reactions.get(name, []))
        payload = {"name": name, "count": count, "announcement_id": announcement.id}
        await self._to_active_users("announcement.reaction", payload)

    async def announcement_delete(self, announcement_id: str) -> None:
        payload: Any = announcement_id
        if faults.active("announcement-delete-object"):  # FAULT
            payload = {"id": announcement_id}
        await self._to_active_users("announcement.delete", payload)

    async def kill_token(self, token_id: str) -> None:
        if faults.active("no-kill-on-revoke"):  # FAULT
            return
        await self.publish(f"timeline:access_token:{token_id}", "kill")

    async def kill_account(self, account_id: str) -> None:
        await self.publish(f"timeline:system:{account_id}", "kill")
