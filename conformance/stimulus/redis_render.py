"""A miniature of Mastodon's REST serializers, for the payloads the Redis driver publishes.

When the suite drives a bare streaming server through Redis there is no Rails to render
entities, so the driver renders them itself: Status (anonymously for public/hashtag channels, for
a recipient with the viewer keys for home/list/notification/conversation channels), Account,
MediaAttachment, Notification, Conversation and Announcement, with the keys, key order and types
of Mastodon 4.8's serializers as recorded in the captures. Pure functions over small frozen
specs; deliberately independent of the reference server's renderer (the two are compared on the
wire, never share code).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from conformance.stimulus.redis_tags import normalise_tag

VISIBILITIES = ("public", "unlisted", "private", "direct")


def iso_ms(moment: datetime) -> str:
    """Mastodon's datetime format: ``2026-11-28T09:30:01.000Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class Person:
    """An account as far as rendering needs it. ``host`` is the account's own domain."""

    id: str
    username: str
    host: str
    local: bool
    display_name: str = ""

    @property
    def acct(self) -> str:
        return self.username if self.local else f"{self.username}@{self.host}"

    @property
    def url(self) -> str:
        return f"https://{self.host}/@{self.username}"

    @property
    def uri(self) -> str:
        return f"https://{self.host}/users/{self.username}"


@dataclass(frozen=True, slots=True)
class StatusSpec:
    """Everything the Status serializer reads, for one status (or a reblog wrapper)."""

    id: str
    author: Person
    created_at: str
    visibility: str
    text: str = ""
    tags: tuple[str, ...] = ()
    mentions: tuple[Person, ...] = ()
    media_id: str | None = None
    language: str | None = "en"
    edited_at: str | None = None
    reblog_of: StatusSpec | None = None
    local_host: str = "mastodon.example"

    @property
    def uri(self) -> str:
        base = f"{self.author.uri}/statuses/{self.id}"
        return f"{base}/activity" if self.reblog_of is not None else base

    @property
    def url(self) -> str:
        if self.reblog_of is not None:
            return self.uri
        return f"{self.author.url}/{self.id}"

    @property
    def local(self) -> bool:
        return self.author.local

    @property
    def has_media(self) -> bool:
        return self.media_id is not None


def _id_path(ident: str) -> str:
    digits = ident.rjust(18, "0")
    return "/".join(digits[i : i + 3] for i in range(0, len(digits), 3))


def render_account(person: Person, *, local_host: str) -> dict[str, Any]:
    cache = "" if person.local else "cache/"
    avatar = (
        f"https://{local_host}/system/{cache}accounts/avatars/{_id_path(person.id)}"
        "/original/avatar.png"
    )
    out: dict[str, Any] = {
        "id": person.id,
        "username": person.username,
        "acct": person.acct,
        "display_name": person.display_name or person.username,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "indexable": True,
        "group": False,
        "created_at": "2022-11-08T00:00:00.000Z",
        "note": "<p>Conformance test account.</p>",
        "url": person.url,
        "uri": person.uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "avatar_description": "",
        "header": f"https://{local_host}/headers/original/missing.png",
        "header_static": f"https://{local_host}/headers/original/missing.png",
        "header_description": "",
        "followers_count": 1,
        "following_count": 1,
        "statuses_count": 1,
        "last_status_at": "2026-11-28",
        "hide_collections": False,
        "show_media": True,
        "show_media_replies": True,
        "show_featured": True,
    }
    if person.local:
        out["noindex"] = False
        out["feature_approval"] = {"automatic": ["public"], "manual": [], "current_user": "denied"}
        out["emojis"] = []
        out["roles"] = []
    else:
        out["feature_approval"] = {"automatic": [], "manual": [], "current_user": "missing"}
        out["emojis"] = []
    out["fields"] = []
    return out


def render_media(media_id: str, *, local: bool, local_host: str) -> dict[str, Any]:
    cache = "" if local else "cache/"
    base = f"https://{local_host}/system/{cache}media_attachments/files/{_id_path(media_id)}"
    return {
        "id": media_id,
        "type": "image",
        "url": f"{base}/original/image.png",
        "preview_url": f"{base}/small/image.png",
        "remote_url": None if local else "https://files.remote.example/media/image.png",
        "preview_remote_url": None,
        "text_url": None,
        "meta": {
            "original": {"width": 2, "height": 2, "size": "2x2", "aspect": 1.0},
            "small": {"width": 2, "height": 2, "size": "2x2", "aspect": 1.0},
            "focus": {"x": 0.0, "y": 0.0},
        },
        "description": "Conformance test image",
        "blurhash": "UBL_:rOpGG-;~qRjWBay9Fayj[WB%MWBt7of",
    }


def _mention_html(person: Person, local_host: str) -> str:
    return (
        f'<span class="h-card" translate="no"><a href="{html.escape(person.url)}" '
        f'class="u-url mention">@<span>{html.escape(person.username)}</span></a></span>'
    )


def _tag_html(tag: str, host: str) -> str:
    return (
        f'<a href="https://{host}/tags/{normalise_tag(tag)}" class="mention hashtag" '
        f'rel="tag">#<span>{html.escape(tag)}</span></a>'
    )


def render_content(spec: StatusSpec) -> str:
    if spec.reblog_of is not None:
        return ""
    parts = [_mention_html(p, spec.local_host) for p in spec.mentions]
    if spec.text:
        parts.append(html.escape(spec.text, quote=False))
    parts.extend(_tag_html(tag, spec.author.host) for tag in spec.tags)
    return "<p>" + " ".join(parts) + "</p>"


def _quote_approval(spec: StatusSpec, viewer: str | None) -> dict[str, Any]:
    automatic = ["public"] if spec.visibility in ("public", "unlisted") else []
    return {
        "automatic": automatic,
        "manual": [],
        "current_user": "denied" if viewer is None else "automatic",
    }


def render_status(spec: StatusSpec, *, viewer: str | None) -> dict[str, Any]:
    """Status as Rails renders it: ``viewer`` None = anonymous (public/hashtag channels)."""
    out: dict[str, Any] = {
        "id": spec.id,
        "created_at": spec.created_at,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": spec.visibility,
        "language": spec.language,
        "uri": spec.uri,
        "url": spec.url,
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "quotes_count": 0,
        "edited_at": spec.edited_at,
        "content": render_content(spec),
        # The nested original is rendered without viewer keys, as in the captures.
        "reblog": (
            render_status(spec.reblog_of, viewer=None) if spec.reblog_of is not None else None
        ),
    }
    if spec.local and spec.reblog_of is None:
        out["application"] = {"name": "Web", "website": None}
    out["account"] = render_account(spec.author, local_host=spec.local_host)
    out["media_attachments"] = (
        [render_media(spec.media_id, local=spec.local, local_host=spec.local_host)]
        if spec.media_id is not None
        else []
    )
    out["mentions"] = [
        {"id": p.id, "username": p.username, "url": p.url, "acct": p.acct} for p in spec.mentions
    ]
    out["tags"] = [
        {"name": normalise_tag(t), "url": f"https://{spec.local_host}/tags/{normalise_tag(t)}"}
        for t in spec.tags
    ]
    out["emojis"] = []
    out["tagged_collections"] = []
    out["quote"] = None
    out["card"] = None
    out["poll"] = None
    out["quote_approval"] = _quote_approval(spec, viewer)
    if viewer is not None:
        out["favourited"] = False
        out["reblogged"] = False
        out["muted"] = False
        out["bookmarked"] = False
        if (
            viewer == spec.author.id
            and spec.reblog_of is None
            and spec.visibility in ("public", "unlisted", "private")
        ):
            out["pinned"] = False
        out["filtered"] = []
    return out


def render_notification(
    *,
    notification_id: str,
    kind: str,
    group_key: str,
    created_at: str,
    from_account: Person,
    status: StatusSpec | None,
    viewer: str,
    local_host: str,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": notification_id,
        "type": kind,
        "created_at": created_at,
        "group_key": group_key,
        "account": render_account(from_account, local_host=local_host),
    }
    if status is not None:
        out["status"] = render_status(status, viewer=viewer)
    return out


def render_conversation(
    *, conversation_id: str, others: list[Person], last_status: StatusSpec, viewer: str
) -> dict[str, Any]:
    return {
        "id": conversation_id,
        "unread": True,
        "accounts": [render_account(p, local_host=last_status.local_host) for p in others],
        "last_status": render_status(last_status, viewer=viewer),
    }


def render_announcement(
    *,
    announcement_id: str,
    text: str,
    published_at: str,
    starts_at: str | None,
    ends_at: str | None,
) -> dict[str, Any]:
    return {
        "id": announcement_id,
        "content": f"<p>{html.escape(text, quote=False)}</p>",
        "starts_at": starts_at,
        "ends_at": ends_at,
        "all_day": False,
        "published_at": published_at,
        "updated_at": published_at,
        "mentions": [],
        "statuses": [],
        "tags": [],
        "emojis": [],
        "reactions": [],
    }
