"""Which schema judges which streaming event, and which entity names the validator knows.

Kept apart from the validator so that readers of raw streams (the capture sample reader, the
judges) can ask "is this payload a bare string?" without building any validator.
"""

from __future__ import annotations

from typing import Final


class _NoPayload:
    """Sentinel type: the event carried no payload at all (WS frame without a ``payload`` key)."""

    _instance: _NoPayload | None = None

    def __new__(cls) -> _NoPayload:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_PAYLOAD"

    def __bool__(self) -> bool:
        return False


NO_PAYLOAD: Final = _NoPayload()
"""Pass this as the payload of an event that had no data; ``None`` means a JSON ``null``."""

# event name -> schema file (in schemas/); the event schema refers to the entity schema.
EVENT_SCHEMAS: Final[dict[str, str]] = {
    "update": "event-update.schema.json",
    "status.update": "event-status-update.schema.json",
    "notification": "event-notification.schema.json",
    "conversation": "event-conversation.schema.json",
    "announcement": "event-announcement.schema.json",
    "announcement.reaction": "event-announcement-reaction.schema.json",
    "delete": "event-delete.schema.json",
    "announcement.delete": "event-announcement-delete.schema.json",
    "notifications_merged": "event-notifications-merged.schema.json",
    "filters_changed": "event-filters-changed.schema.json",
}

# events whose payload is a bare string on the wire: never JSON-decode it.
STRING_PAYLOAD_EVENTS: Final[frozenset[str]] = frozenset(
    {"delete", "announcement.delete", "notifications_merged"}
)

# events that carry no payload.
NO_PAYLOAD_EVENTS: Final[frozenset[str]] = frozenset({"filters_changed"})

# events whose payload is a JSON object (which entity, for messages).
OBJECT_PAYLOAD_EVENTS: Final[dict[str, str]] = {
    "update": "Status",
    "status.update": "Status",
    "notification": "Notification",
    "conversation": "Conversation",
    "announcement": "Announcement",
    "announcement.reaction": "announcement.reaction payload",
}

# events whose Status payload is rendered per stream (viewer keys depend on the stream).
STATUS_EVENTS: Final[frozenset[str]] = frozenset({"update", "status.update"})

# entity name (as in the Mastodon docs) -> schema file.
ENTITY_SCHEMAS: Final[dict[str, str]] = {
    "Status": "status.schema.json",
    "Account": "account.schema.json",
    "Field": "field.schema.json",
    "AccountRole": "account-role.schema.json",
    "Role": "role.schema.json",
    "FeatureApproval": "feature-approval.schema.json",
    "CustomEmoji": "custom-emoji.schema.json",
    "MediaAttachment": "media-attachment.schema.json",
    "Poll": "poll.schema.json",
    "PreviewCard": "preview-card.schema.json",
    "Tag": "tag.schema.json",
    "Status::Tag": "status-tag.schema.json",
    "ShallowTag": "status-tag.schema.json",
    "Mention": "mention.schema.json",
    "Status::Mention": "mention.schema.json",
    "Application": "application.schema.json",
    "Filter": "filter.schema.json",
    "FilterResult": "filter-result.schema.json",
    "FilterKeyword": "filter-keyword.schema.json",
    "FilterStatus": "filter-status.schema.json",
    "Notification": "notification.schema.json",
    "Report": "report.schema.json",
    "RelationshipSeveranceEvent": "relationship-severance-event.schema.json",
    "AccountWarning": "account-warning.schema.json",
    "NotificationFallback": "notification-fallback.schema.json",
    "Collection": "collection.schema.json",
    "Conversation": "conversation.schema.json",
    "Announcement": "announcement.schema.json",
    "AnnouncementReaction": "announcement-reaction.schema.json",
    "Quote": "quote.schema.json",
    "ShallowQuote": "shallow-quote.schema.json",
    "QuoteApproval": "quote-approval.schema.json",
}

# streams whose Status payloads are rendered anonymously (no viewer keys except `filtered`).
ANONYMOUS_STREAM_PREFIXES: Final[tuple[str, ...]] = ("public", "hashtag")
# streams whose Status payloads are rendered for the recipient.
VIEWER_STREAM_PREFIXES: Final[tuple[str, ...]] = ("user", "list", "direct")
VIEWER_KEYS: Final[tuple[str, ...]] = ("favourited", "reblogged", "muted", "bookmarked")
