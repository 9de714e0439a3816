"""Entity rendering, after Mastodon 4.8's REST serializers (key order included).

One ``Renderer`` serves both the REST responses and the fan-out payloads, so the same object
rendered for the same viewer is the same JSON on both paths. ``viewer_id=None`` is the anonymous
render used for public and hashtag channels: no viewer keys at all (the streaming server appends
``filtered`` itself).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conformance.reference.store import (
    Account,
    Announcement,
    Conversation,
    MediaAttachment,
    Notification,
    Status,
    Store,
    UserList,
    iso8601,
)
from conformance.reference.web.filtering import filter_results

JSON = dict[str, Any]


class Renderer:
    def __init__(self, store: Store, base_url: str) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")

    # ------------------------------------------------------------------ accounts

    def account_url(self, account: Account) -> str:
        if account.local:
            return f"{self.base_url}/@{account.username}"
        return f"https://{account.domain}/@{account.username}"

    def account_uri(self, account: Account) -> str:
        if account.local:
            return f"{self.base_url}/users/{account.username}"
        return f"https://{account.domain}/users/{account.username}"

    def account(self, account: Account) -> JSON:
        avatar = f"{self.base_url}/avatars/original/missing.png"
        header = f"{self.base_url}/headers/original/missing.png"
        unavailable = account.suspended
        statuses = [s for s in self.store.statuses_of(account.id) if s.visibility != "direct"]
        last = max((s.created_at for s in statuses), default=None)
        out: JSON = {
            "id": account.id,
            "username": account.username,
            "acct": account.acct,
            "display_name": "" if unavailable else account.display_name,
            "locked": False if unavailable else account.locked,
            "bot": False if unavailable else account.bot,
            "discoverable": False if unavailable else account.discoverable,
            "indexable": False if unavailable else account.indexable,
            "group": account.group,
            "created_at": iso8601(_midnight(account.created_at)),
            "note": "" if unavailable else account.note,
            "url": self.account_url(account),
            "uri": self.account_uri(account),
            "avatar": avatar,
            "avatar_static": avatar,
            "avatar_description": "",
            "header": header,
            "header_static": header,
            "header_description": "",
            "followers_count": len(self.store.followers_of(account.id)),
            "following_count": len(self.store.following_of(account.id)),
            "statuses_count": len(statuses),
            "last_status_at": last.strftime("%Y-%m-%d") if last else None,
            "hide_collections": False,
            "show_media": True,
            "show_media_replies": True,
            "show_featured": True,
        }
        if account.local:
            out["noindex"] = False
        out["feature_approval"] = (
            {"automatic": ["public"], "manual": [], "current_user": "denied"}
            if account.local
            else {"automatic": [], "manual": [], "current_user": "missing"}
        )
        out["emojis"] = []
        if account.local:
            out["roles"] = []
        out["fields"] = [] if unavailable else [dict(f) for f in account.fields]
        if account.suspended:
            out["suspended"] = True
        return out

    def credential_account(self, account: Account) -> JSON:
        out = self.account(account)
        out["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": None,
            "note": "",
            "fields": [],
            "follow_requests_count": 0,
            "hide_collections": False,
            "discoverable": account.discoverable,
            "indexable": account.indexable,
            "attribution_domains": [],
            "quote_policy": "public",
        }
        out["role"] = {
            "id": "-99",
            "name": "",
            "permissions": str(account.role_permissions),
            "color": "",
            "highlighted": False,
        }
        return out

    def relationship(self, viewer_id: str, target_id: str) -> JSON:
        store = self.store
        target = store.account(target_id)
        mute = store.mutes.get((viewer_id, target_id))
        return {
            "id": target_id,
            "following": store.is_following(viewer_id, target_id),
            "showing_reblogs": store.is_following(viewer_id, target_id),
            "notifying": False,
            "languages": None,
            "followed_by": store.is_following(target_id, viewer_id),
            "blocking": (viewer_id, target_id) in store.blocks,
            "blocked_by": (target_id, viewer_id) in store.blocks,
            "muting": mute is not None,
            "muting_notifications": bool(mute and mute.notifications),
            "requested": False,
            "requested_by": False,
            "domain_blocking": bool(
                target and target.domain and store.blocks_domain(viewer_id, target.domain)
            ),
            "endorsed": False,
            "note": "",
        }

    # ------------------------------------------------------------------ statuses

    def status_uri(self, status: Status, author: Account) -> tuple[str, str]:
        if not author.local:
            base = f"https://{author.domain}"
            return (
                f"{base}/users/{author.username}/statuses/{status.id}",
                f"{base}/@{author.username}/{status.id}",
            )
        uri = f"{self.base_url}/users/{author.username}/statuses/{status.id}"
        if status.reblog_of_id:
            return f"{uri}/activity", f"{uri}/activity"
        return uri, f"{self.base_url}/@{author.username}/{status.id}"

    def status(self, status: Status, viewer_id: str | None = None) -> JSON:
        store = self.store
        author = store.accounts[status.account_id]
        uri, url = self.status_uri(status, author)
        reblog = store.statuses.get(status.reblog_of_id) if status.reblog_of_id else None
        out: JSON = {
            "id": status.id,
            "created_at": iso8601(status.created_at),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": status.in_reply_to_account_id,
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": uri,
            "url": url,
            "replies_count": store.replies_count(status.id),
            "reblogs_count": len(store.reblogs_of(status.id)),
            "favourites_count": store.favourites_count(status.id),
            "quotes_count": 0,
            "edited_at": iso8601(status.edited_at),
            "content": "" if reblog else status.content,
            "reblog": self.status(reblog, viewer_id) if reblog else None,
        }
        if status.application and (author.shows_application or viewer_id == author.id):
            name, website = status.application
            out["application"] = {"name": name, "website": website}
        out["account"] = self.account(author)
        out["media_attachments"] = [
            self.media(store.media[m]) for m in status.media_ids if m in store.media
        ]
        out["mentions"] = [self.mention(m) for m in status.mention_ids if m in store.accounts]
        out["tags"] = [{"name": t, "url": f"{self.base_url}/tags/{t}"} for t in status.tags]
        out["emojis"] = []
        out["tagged_collections"] = []
        out["quote"] = None
        out["card"] = None
        out["poll"] = None
        out["quote_approval"] = self.quote_approval(status, viewer_id)
        if viewer_id is not None:
            out["favourited"] = (viewer_id, status.id) in store.favourites
            out["reblogged"] = store.reblog_by(viewer_id, status.id) is not None
            out["muted"] = False
            out["bookmarked"] = (viewer_id, status.id) in store.bookmarks
            if (
                viewer_id == status.account_id
                and reblog is None
                and status.visibility in ("public", "unlisted", "private")
            ):
                out["pinned"] = (viewer_id, status.id) in store.pins
            out["filtered"] = filter_results(store, viewer_id, reblog or status)
        return out

    def quote_approval(self, status: Status, viewer_id: str | None) -> JSON:
        quotable = status.visibility in ("public", "unlisted")
        if viewer_id is None:
            current = "denied"
        elif viewer_id == status.account_id or quotable:
            current = "automatic"
        else:
            current = "denied"
        return {"automatic": ["public"] if quotable else [], "manual": [], "current_user": current}

    def mention(self, account_id: str) -> JSON:
        account = self.store.accounts[account_id]
        return {
            "id": account.id,
            "username": account.username,
            "url": self.account_url(account),
            "acct": account.acct,
        }

    def media(self, media: MediaAttachment) -> JSON:
        path = f"{self.base_url}/system/media_attachments/files/{media.id}"
        ratio = media.width / media.height if media.height else 1.0
        small_w = min(media.width, 640)
        small_h = round(small_w / ratio) if ratio else media.height
        return {
            "id": media.id,
            "type": media.type,
            "url": f"{path}/original/{media.file_key}",
            "preview_url": f"{path}/small/{media.file_key}",
            "remote_url": media.remote_url,
            "preview_remote_url": None,
            "text_url": None,
            "meta": {
                "original": {
                    "width": media.width,
                    "height": media.height,
                    "size": f"{media.width}x{media.height}",
                    "aspect": ratio,
                },
                "small": {
                    "width": small_w,
                    "height": small_h,
                    "size": f"{small_w}x{small_h}",
                    "aspect": ratio,
                },
            },
            "description": media.description,
            "blurhash": media.blurhash,
        }

    # ------------------------------------------------------------------ the rest

    def notification(self, notification: Notification) -> JSON:
        out: JSON = {
            "id": notification.id,
            "type": notification.type,
            "created_at": iso8601(notification.created_at),
            "group_key": f"ungrouped-{notification.id}",
            "account": self.account(self.store.accounts[notification.from_account_id]),
        }
        if notification.status_id is not None:
            status = self.store.statuses.get(notification.status_id)
            if status is not None:
                out["status"] = self.status(status, notification.account_id)
        return out

    def conversation(self, conversation: Conversation) -> JSON:
        last = self.store.statuses.get(conversation.last_status_id)
        return {
            "id": conversation.id,
            "unread": conversation.unread,
            "accounts": [
                self.account(self.store.accounts[a])
                for a in conversation.participant_ids
                if a in self.store.accounts
            ],
            "last_status": self.status(last, conversation.account_id)
            if last and not last.deleted
            else None,
        }

    def announcement(self, announcement: Announcement, viewer_id: str | None = None) -> JSON:
        out: JSON = {
            "id": announcement.id,
            "content": announcement.content,
            "starts_at": iso8601(announcement.starts_at),
            "ends_at": iso8601(announcement.ends_at),
            "all_day": announcement.all_day,
            "published_at": iso8601(announcement.published_at),
            "updated_at": iso8601(announcement.updated_at),
        }
        if viewer_id is not None:
            out["read"] = viewer_id in announcement.read_by
        out["mentions"] = []
        out["statuses"] = []
        out["tags"] = []
        out["emojis"] = []
        reactions = []
        for name, account_ids in announcement.reactions.items():
            if not account_ids:
                continue
            reaction: JSON = {"name": name, "count": len(account_ids)}
            if viewer_id is not None:
                reaction["me"] = viewer_id in account_ids
            reactions.append(reaction)
        out["reactions"] = reactions
        return out

    def list(self, lst: UserList) -> JSON:
        return {
            "id": lst.id,
            "title": lst.title,
            "replies_policy": lst.replies_policy,
            "exclusive": lst.exclusive,
        }


def _midnight(value: datetime) -> datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)
