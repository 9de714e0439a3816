"""The reference server's in-memory "database".

It plays the part of Mastodon's PostgreSQL: the web side writes to it, and both halves read it.
The streaming side only uses the query API named in docs/ARCHITECTURE.md ("Store query API"):
``authenticate``, ``list_owner``, ``blocks_or_mutes_any``, ``is_blocked_by``, ``blocks_domain``,
``active_filters`` and ``feed_access``. Everything else here exists for the web side.

Ids of statuses, accounts and media are snowflake-like (milliseconds << 16 | sequence) strings,
as in Mastodon; tokens, lists, filters, notifications and announcements use small sequential
ids, as Mastodon's bigserial columns do.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from conformance.reference.store_types import (
    FEED_ACCESS_DEFAULT,
    FULL_SCOPES,
    Account,
    Announcement,
    Conversation,
    CustomFilter,
    FilterKeyword,
    FilterRule,
    FilterStatus,
    MediaAttachment,
    Mute,
    Notification,
    Status,
    Token,
    TokenInfo,
    UserList,
    _Snowflake,
    utcnow,
)

# --------------------------------------------------------------------------- the store


class Store:
    def __init__(self) -> None:
        self._snowflake = _Snowflake()
        self._serials: dict[str, int] = {}
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, Token] = {}  # by token id
        self._token_index: dict[str, str] = {}  # token string -> token id
        self.statuses: dict[str, Status] = {}
        self.media: dict[str, MediaAttachment] = {}
        self.notifications: dict[str, Notification] = {}
        self.lists: dict[str, UserList] = {}
        self.filters: dict[str, CustomFilter] = {}
        self.conversations: dict[str, Conversation] = {}
        self.announcements: dict[str, Announcement] = {}
        self.follows: set[tuple[str, str]] = set()
        self.blocks: set[tuple[str, str]] = set()
        self.mutes: dict[tuple[str, str], Mute] = {}
        self.domain_blocks: set[tuple[str, str]] = set()
        self.favourites: set[tuple[str, str]] = set()
        self.bookmarks: set[tuple[str, str]] = set()
        self.pins: set[tuple[str, str]] = set()
        self.home_feeds: dict[str, list[str]] = {}
        self.list_feeds: dict[str, list[str]] = {}
        self.settings: dict[str, str] = {}

    @classmethod
    def seeded(cls) -> Store:
        from conformance.reference.seed import seed

        store = cls()
        seed(store)
        return store

    def seed_info(self) -> dict[str, list[dict[str, str]]]:
        """The accounts and lists printed at start-up: alice first, then bob."""
        local = [a for a in self.accounts.values() if a.local][:2]
        accounts = []
        for account in local:
            token = next(
                t
                for t in self.tokens.values()
                if t.account_id == account.id and not t.revoked and t.scopes == FULL_SCOPES
            )
            accounts.append({"id": account.id, "acct": account.acct, "token": token.token})
        lists = [{"id": lst.id, "owner_id": lst.account_id} for lst in self.lists.values()]
        return {"accounts": accounts, "lists": lists}

    # ------------------------------------------------------------------ ids

    def new_id(self) -> str:
        return self._snowflake.next()

    def serial(self, kind: str) -> str:
        self._serials[kind] = self._serials.get(kind, 0) + 1
        return str(self._serials[kind])

    # ------------------------------------------------------------------ accounts and tokens

    def add_account(self, username: str, domain: str | None = None, **attrs: object) -> Account:
        account = Account(id=self.new_id(), username=username, domain=domain)
        for name, value in attrs.items():
            setattr(account, name, value)
        self.accounts[account.id] = account
        self.home_feeds[account.id] = []
        return account

    def account(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    def find_account(self, username: str, domain: str | None) -> Account | None:
        for account in self.accounts.values():
            if account.username.lower() == username.lower() and (
                (account.domain or "").lower() == (domain or "").lower()
            ):
                return account
        return None

    def mint_token(
        self,
        account_id: str | None,
        scopes: frozenset[str] | set[str] = FULL_SCOPES,
        *,
        app_name: str = "Web",
        app_website: str | None = None,
    ) -> Token:
        token = Token(
            id=self.serial("token"),
            token=secrets.token_urlsafe(32),
            account_id=account_id,
            scopes=frozenset(scopes),
            app_name=app_name,
            app_website=app_website,
        )
        self.tokens[token.id] = token
        self._token_index[token.token] = token.id
        return token

    def token_by_value(self, value: str) -> Token | None:
        token_id = self._token_index.get(value)
        return self.tokens.get(token_id) if token_id else None

    def revoke_token(self, value: str) -> Token | None:
        token = self.token_by_value(value)
        if token is None or token.revoked:
            return None
        token.revoked = True
        return token

    # ------------------------------------------------------------------ query API (streaming)

    def authenticate(self, token: str) -> TokenInfo | None:
        record = self.token_by_value(token)
        if record is None or record.revoked or record.account_id is None:
            return None
        account = self.accounts.get(record.account_id)
        if account is None or account.disabled or account.suspended:
            return None
        return TokenInfo(
            token_id=record.id,
            account_id=account.id,
            scopes=record.scopes,
            chosen_languages=list(account.chosen_languages)
            if account.chosen_languages is not None
            else None,
            permissions=account.role_permissions,
        )

    def list_owner(self, list_id: str) -> str | None:
        lst = self.lists.get(list_id)
        return lst.account_id if lst else None

    def blocks_or_mutes_any(self, viewer_id: str, account_ids: list[str]) -> bool:
        return any(
            (viewer_id, other) in self.blocks or (viewer_id, other) in self.mutes
            for other in account_ids
        )

    def is_blocked_by(self, author_id: str, viewer_id: str) -> bool:
        return (author_id, viewer_id) in self.blocks

    def blocks_domain(self, viewer_id: str, domain: str) -> bool:
        return (viewer_id, domain.lower()) in self.domain_blocks

    def active_filters(self, viewer_id: str) -> list[FilterRule]:
        rules = []
        for flt in self.filters_of(viewer_id):
            rules.append(
                FilterRule(
                    id=flt.id,
                    title=flt.title,
                    context=list(flt.context),
                    expires_at=iso8601(flt.expires_at),
                    filter_action=flt.filter_action,
                    keywords=[(k.keyword, k.whole_word) for k in flt.keywords],
                )
            )
        return rules

    def feed_access(self, setting: str) -> str:
        return self.settings.get(setting, FEED_ACCESS_DEFAULT)

    # ------------------------------------------------------------------ relations

    def is_following(self, follower_id: str, target_id: str) -> bool:
        return (follower_id, target_id) in self.follows

    def followers_of(self, account_id: str) -> list[str]:
        return [a for a, b in self.follows if b == account_id]

    def following_of(self, account_id: str) -> list[str]:
        return [b for a, b in self.follows if a == account_id]

    def follow(self, follower_id: str, target_id: str) -> bool:
        """Returns True when the follow is new."""
        if (follower_id, target_id) in self.follows:
            return False
        self.follows.add((follower_id, target_id))
        return True

    def unfollow(self, follower_id: str, target_id: str) -> None:
        """Unfollowing also drops the account from the follower's lists, as in Mastodon."""
        self.follows.discard((follower_id, target_id))
        for lst in self.lists.values():
            if lst.account_id == follower_id and target_id in lst.member_ids:
                lst.member_ids.remove(target_id)

    def block(self, account_id: str, target_id: str) -> None:
        self.blocks.add((account_id, target_id))
        self.unfollow(account_id, target_id)
        self.unfollow(target_id, account_id)

    def unblock(self, account_id: str, target_id: str) -> None:
        self.blocks.discard((account_id, target_id))

    def mute(
        self,
        account_id: str,
        target_id: str,
        notifications: bool = True,
        expires_at: datetime | None = None,
    ) -> None:
        self.mutes[(account_id, target_id)] = Mute(notifications, expires_at)

    def unmute(self, account_id: str, target_id: str) -> None:
        self.mutes.pop((account_id, target_id), None)

    def block_domain(self, account_id: str, domain: str) -> None:
        self.domain_blocks.add((account_id, domain.lower()))

    def unblock_domain(self, account_id: str, domain: str) -> None:
        self.domain_blocks.discard((account_id, domain.lower()))

    # ------------------------------------------------------------------ statuses and media

    def add_status(self, status: Status) -> Status:
        self.statuses[status.id] = status
        for media_id in status.media_ids:
            if media_id in self.media:
                self.media[media_id].status_id = status.id
        return status

    def status(self, status_id: str) -> Status | None:
        status = self.statuses.get(status_id)
        return status if status is not None and not status.deleted else None

    def live_statuses(self) -> list[Status]:
        return [s for s in self.statuses.values() if not s.deleted]

    def replies_count(self, status_id: str) -> int:
        return sum(1 for s in self.live_statuses() if s.in_reply_to_id == status_id)

    def reblogs_of(self, status_id: str) -> list[Status]:
        return [s for s in self.live_statuses() if s.reblog_of_id == status_id]

    def reblog_by(self, account_id: str, status_id: str) -> Status | None:
        return next((s for s in self.reblogs_of(status_id) if s.account_id == account_id), None)

    def favourites_count(self, status_id: str) -> int:
        return sum(1 for _, s in self.favourites if s == status_id)

    def statuses_of(self, account_id: str) -> list[Status]:
        return [s for s in self.live_statuses() if s.account_id == account_id]

    def add_media(self, media: MediaAttachment) -> MediaAttachment:
        self.media[media.id] = media
        return media

    # ------------------------------------------------------------------ feeds

    def feed_insert(self, feed: list[str], status_id: str) -> bool:
        if status_id in feed:
            return False
        feed.append(status_id)
        return True

    @staticmethod
    def feed_remove(feed: list[str], status_id: str) -> bool:
        if status_id in feed:
            feed.remove(status_id)
            return True
        return False

    def list_feed(self, list_id: str) -> list[str]:
        return self.list_feeds.setdefault(list_id, [])

    def lists_containing(self, account_id: str) -> list[UserList]:
        return [lst for lst in self.lists.values() if account_id in lst.member_ids]

    # ------------------------------------------------------------ notifications, lists, filters

    def add_notification(
        self, recipient_id: str, from_id: str, type_: str, status_id: str | None
    ) -> Notification:
        notification = Notification(
            id=self.serial("notification"),
            account_id=recipient_id,
            from_account_id=from_id,
            type=type_,
            status_id=status_id,
        )
        self.notifications[notification.id] = notification
        return notification

    def add_list(self, owner_id: str, title: str, **attrs: object) -> UserList:
        lst = UserList(id=self.serial("list"), account_id=owner_id, title=title)
        for name, value in attrs.items():
            setattr(lst, name, value)
        self.lists[lst.id] = lst
        self.list_feeds[lst.id] = []
        return lst

    def filters_of(self, account_id: str) -> list[CustomFilter]:
        now = utcnow()
        return [f for f in self.filters.values() if f.account_id == account_id and f.active(now)]

    def conversation_for(self, account_id: str, participants: list[str]) -> Conversation | None:
        wanted = sorted(participants)
        for conv in self.conversations.values():
            if conv.account_id == account_id and sorted(conv.participant_ids) == wanted:
                return conv
        return None


def iso8601(value: datetime | None) -> str | None:
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


__all__ = [
    "FEED_ACCESS_DEFAULT",
    "FULL_SCOPES",
    "Account",
    "Announcement",
    "Conversation",
    "CustomFilter",
    "FilterKeyword",
    "FilterRule",
    "FilterStatus",
    "MediaAttachment",
    "Mute",
    "Notification",
    "Status",
    "Store",
    "Token",
    "TokenInfo",
    "UserList",
    "iso8601",
    "utcnow",
]
