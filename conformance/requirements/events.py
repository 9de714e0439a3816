"""Event names and payload encodings shared by SSE and WebSocket.

The encoding table is streaming/index.js:674 plus mastodon-streaming.md §6: objects become JSON,
ids stay bare strings, filters_changed carries nothing.
"""

from __future__ import annotations

from conformance.requirements import define

define(
    "events.name.documented",
    "INFO",
    source="docs",
    clause="streaming.md 'Event types'; halcy/Mastodon.py#218 and #234 (unknown names crashed "
    "clients)",
    description="Records event names outside the documented set (Mastodon forwards any name).",
)
define(
    "events.name.vendor-prefixed",
    "INFO",
    source="client",
    clause="divergences.md §3.11 (pleroma:* events on Pleroma/Akkoma; pl-api strips the prefix)",
    description="Records vendor-prefixed event names such as pleroma:chat_update.",
)
define(
    "events.payload.json",
    "MUST",
    source="docs",
    clause="streaming.md 'Event types' (update, status.update, notification, conversation, "
    "announcement, announcement.reaction carry an entity); every client JSON-parses them",
    description="Entity events carry a payload that parses as a JSON object (SSE data; the WS "
    "payload string).",
)
define(
    "events.delete.bare-id",
    "MUST",
    source="docs",
    clause="streaming.md 'Event types' (delete: the ID of the deleted status); "
    "h3poteto/megalodon#41; mastodon/mastodon-api#36",
    description="A delete payload is the bare status id: not a JSON object, not quoted, not empty.",
)
define(
    "events.announcement-delete.bare-id",
    "MUST",
    source="docs",
    clause="streaming.md 'Event types' (announcement.delete: the ID of the deleted announcement)",
    description="An announcement.delete payload is the bare announcement id.",
)
define(
    "events.notifications-merged.bare-value",
    "SHOULD",
    source="code",
    clause="streaming/index.js:674 (payload '1' passed through); mastodon/mastodon#27828",
    description="notifications_merged carries a bare scalar (Mastodon: 1), not an object.",
)
define(
    "events.filters-changed.no-payload",
    "MUST",
    source="docs",
    clause="streaming.md 'Event types' (filters_changed: no payload; SSE 'data: undefined' "
    "before 4.3); mastodon/flodgatt#106",
    description="filters_changed, if sent, has no payload: SSE no data, empty data or the literal "
    "'undefined'; WS no payload key.",
)
define(
    "events.notification.known-type",
    "INFO",
    source="docs",
    clause="entities/Notification (types added in 4.3, 4.4, 4.5: severed_relationships, "
    "moderation_warning, quote, ...; Pleroma's pleroma:emoji_reaction). INFO, not SHOULD: "
    "Mastodon adds types in minor releases and its docs tell clients to ignore unknown ones "
    "(Mastodon web, Tusky and Ivory drop them), so a type the suite does not know breaks no "
    "client and is not a defect of the server.",
    description="Records notification types outside the documented set.",
)
