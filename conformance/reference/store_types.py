"""Records and query-API types of the reference server's data, shared by both stores.

``store.Store`` (in memory, written by the web side) and ``pg.PgStreamingStore`` (Mastodon's
PostgreSQL, read by the streaming side with ``--database-url``) answer the same query API with
these types; the web side's records live here too so ``store.py`` holds only the store itself.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

FULL_SCOPES = frozenset({"read", "write", "follow", "push"})
FEED_ACCESS_DEFAULT = "--- public\n"


def utcnow() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- query API types


@dataclass(frozen=True, slots=True)
class TokenInfo:
    token_id: str
    account_id: str
    scopes: frozenset[str]
    chosen_languages: list[str] | None
    permissions: int


@dataclass(frozen=True, slots=True)
class FilterRule:
    id: str
    title: str
    context: list[str]
    expires_at: str | None
    filter_action: str
    keywords: list[tuple[str, bool]]


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class Account:
    id: str
    username: str
    domain: str | None = None
    display_name: str = ""
    note: str = ""
    created_at: datetime = field(default_factory=utcnow)
    locked: bool = False
    bot: bool = False
    discoverable: bool | None = True
    indexable: bool = True
    group: bool = False
    fields: list[dict[str, str | None]] = field(default_factory=list)
    avatar_file: str | None = None
    disabled: bool = False
    suspended: bool = False
    role_permissions: int = 0
    chosen_languages: list[str] | None = None
    shows_application: bool = True

    @property
    def local(self) -> bool:
        return self.domain is None

    @property
    def acct(self) -> str:
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


@dataclass(slots=True)
class Token:
    id: str
    token: str
    account_id: str | None
    scopes: frozenset[str]
    app_name: str = "Web"
    app_website: str | None = None
    revoked: bool = False


@dataclass(slots=True)
class MediaAttachment:
    id: str
    account_id: str
    type: str = "image"
    description: str | None = None
    file_key: str = ""
    remote_url: str | None = None
    status_id: str | None = None
    width: int = 640
    height: int = 480
    blurhash: str = "UBL_:rOpGG-;~qRjWBay9Fayj[WB%MWBt7of"


@dataclass(slots=True)
class Status:
    id: str
    account_id: str
    text: str = ""
    content: str = ""
    visibility: str = "public"
    created_at: datetime = field(default_factory=utcnow)
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = None
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    reblog_of_id: str | None = None
    media_ids: list[str] = field(default_factory=list)
    mention_ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    edited_at: datetime | None = None
    application: tuple[str, str | None] | None = None
    deleted: bool = False


@dataclass(slots=True)
class Notification:
    id: str
    account_id: str
    from_account_id: str
    type: str
    status_id: str | None = None
    created_at: datetime = field(default_factory=utcnow)


@dataclass(slots=True)
class UserList:
    id: str
    account_id: str
    title: str
    replies_policy: str = "list"
    exclusive: bool = False
    member_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class FilterKeyword:
    id: str
    keyword: str
    whole_word: bool = True


@dataclass(slots=True)
class FilterStatus:
    id: str
    status_id: str


@dataclass(slots=True)
class CustomFilter:
    id: str
    account_id: str
    title: str
    context: list[str]
    filter_action: str = "warn"
    expires_at: datetime | None = None
    keywords: list[FilterKeyword] = field(default_factory=list)
    statuses: list[FilterStatus] = field(default_factory=list)

    def active(self, now: datetime | None = None) -> bool:
        return self.expires_at is None or self.expires_at > (now or utcnow())


@dataclass(slots=True)
class Conversation:
    """One participant's view of a direct-message thread (Mastodon's AccountConversation)."""

    id: str
    account_id: str
    participant_ids: list[str]
    last_status_id: str
    unread: bool = False


@dataclass(slots=True)
class Announcement:
    id: str
    text: str
    content: str
    published_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    all_day: bool = False
    reactions: dict[str, list[str]] = field(default_factory=dict)
    read_by: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Mute:
    notifications: bool = True
    expires_at: datetime | None = None


# --------------------------------------------------------------------------- ids


class _Snowflake:
    """Strictly increasing ids shaped like Mastodon's: (unix ms << 16) | sequence."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> str:
        candidate = int(time.time() * 1000) << 16 | secrets.randbelow(1 << 10)
        self._last = max(candidate, self._last + 1)
        return str(self._last)
