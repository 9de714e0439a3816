"""Delivery requirements: which stream carries which event, judged across a whole live run.

These are the rules a client relies on when it opens a stream: a status reaches every timeline it
belongs to and no other. Sources: the fan-out in Mastodon's Rails side (what is published to
which Redis channel, ``mastodon-streaming.md`` §9), the streaming server's per-stream channels
and filtering (§2, §8), and the streaming docs' per-stream event lists.
"""

from conformance.requirements import define
from conformance.verdicts import Level

_FANOUT = "mastodon-streaming.md §9 (FanOutOnWriteService, FeedManager)"
_CHANNELS = "streaming/index.js:1073-1167 (stream name -> channels)"
_FILTER = "streaming/index.js:736-760 (relations filter on public/hashtag streams)"
_DOCS = "mastodon/documentation content/en/methods/streaming.md"

for _id, _level, _source, _clause, _text in (
    (
        "delivery.public-status.arrives",
        Level.MUST,
        "code",
        _FANOUT,
        "A public local status with a hashtag reaches public, public:local, hashtag, "
        "hashtag:local and the followers' user and list streams as update.",
    ),
    (
        "delivery.public-status.excluded",
        Level.MUST,
        "code",
        _CHANNELS,
        "A public local status without media is not delivered on public:remote, *:media, "
        "user:notification, direct or another tag's stream.",
    ),
    (
        "delivery.media-status.arrives",
        Level.MUST,
        "code",
        _FANOUT,
        "A public local status with media also reaches public:media and public:local:media.",
    ),
    (
        "delivery.media-status.excluded",
        Level.MUST,
        "code",
        _CHANNELS,
        "A local status with media is not delivered on public:remote(:media).",
    ),
    (
        "delivery.remote-status.arrives",
        Level.MUST,
        "code",
        _FANOUT,
        "A public remote status reaches public, public:remote (and :media variants) and hashtag.",
    ),
    (
        "delivery.remote-status.excluded",
        Level.MUST,
        "code",
        _CHANNELS,
        "A remote status is not delivered on public:local(:media), hashtag:local, nor to the "
        "home/list of an account that does not follow its author.",
    ),
    (
        "delivery.unlisted-status.arrives",
        Level.MUST,
        "code",
        _FANOUT,
        "An unlisted status reaches its author's followers' user and list streams.",
    ),
    (
        "delivery.unlisted-status.excluded",
        Level.MUST,
        "code",
        _FANOUT,
        "An unlisted status is not delivered on public or hashtag streams.",
    ),
    (
        "delivery.private-status.arrives",
        Level.MUST,
        "code",
        _FANOUT,
        "A followers-only status reaches the followers' user and list streams.",
    ),
    (
        "delivery.private-status.excluded",
        Level.MUST,
        "code",
        _FANOUT,
        "A followers-only status is not delivered on public or hashtag streams.",
    ),
    (
        "delivery.list-member.arrives",
        Level.MUST,
        "docs",
        _DOCS,
        "A status by a list member reaches the list owner's list stream.",
    ),
    (
        "delivery.mention.notifies",
        Level.MUST,
        "docs",
        _DOCS,
        "A mention is delivered as a notification on user and user:notification.",
    ),
    (
        "delivery.direct.conversation",
        Level.MUST,
        "docs",
        _DOCS,
        "A direct message is delivered to the recipient's direct stream as conversation.",
    ),
    (
        "delivery.direct.notifies",
        Level.MUST,
        "docs",
        _DOCS,
        "A direct message is a mention notification on user and user:notification.",
    ),
    (
        "delivery.direct.excluded",
        Level.MUST,
        "code",
        _FANOUT,
        "A direct message is never delivered on public or hashtag streams.",
    ),
    (
        "delivery.own-status.arrives",
        Level.MUST,
        "code",
        _FANOUT,
        "An account's own status reaches its own user stream (and public ones when public).",
    ),
    (
        "delivery.favourite.notifies",
        Level.MUST,
        "docs",
        _DOCS,
        "A favourite of the viewer's status is a favourite notification on user and "
        "user:notification.",
    ),
    (
        "delivery.reblog.notifies",
        Level.MUST,
        "docs",
        _DOCS,
        "A reblog of the viewer's status is a reblog notification on user and user:notification.",
    ),
    (
        "delivery.follow.notifies",
        Level.MUST,
        "docs",
        _DOCS,
        "A new follower is a follow notification on user and user:notification.",
    ),
    (
        "delivery.edit.status-update",
        Level.MUST,
        "docs",
        _DOCS,
        "An edit is delivered as status.update on every stream that received the status.",
    ),
    (
        "delivery.delete.everywhere",
        Level.MUST,
        "docs",
        _DOCS,
        "A deletion is delivered as delete on every stream that received the status.",
    ),
    (
        "delivery.filter-change.observed",
        Level.INFO,
        "code",
        "streaming/index.js:689 (falsy payload dropped); mastodon/mastodon#27828",
        "A filter change: documented as filters_changed on user, not delivered since 4.3.0.",
    ),
    (
        "delivery.announcement.arrives",
        Level.MUST,
        "docs",
        _DOCS,
        "A published announcement is delivered on user.",
    ),
    (
        "delivery.announcement-reaction.arrives",
        Level.MUST,
        "docs",
        _DOCS,
        "A reaction to an announcement is delivered on user as announcement.reaction.",
    ),
    (
        "delivery.announcement-delete.arrives",
        Level.MUST,
        "docs",
        _DOCS,
        "A withdrawn announcement is delivered on user as announcement.delete.",
    ),
    (
        "delivery.muted-author.excluded",
        Level.MUST,
        "code",
        _FILTER,
        "A status by an account the viewer mutes is not delivered on public/hashtag streams.",
    ),
    (
        "delivery.blocked-author.excluded",
        Level.MUST,
        "code",
        _FILTER,
        "A status by an account the viewer blocks is not delivered on public/hashtag streams.",
    ),
    (
        "delivery.other-tag.arrives",
        Level.MUST,
        "code",
        _CHANNELS,
        "A status with a tag reaches that tag's hashtag stream.",
    ),
    (
        "delivery.other-tag.excluded",
        Level.MUST,
        "code",
        _CHANNELS,
        "A hashtag stream carries only statuses with its tag.",
    ),
    (
        "delivery.payload.matches-rest",
        Level.SHOULD,
        "docs",
        _DOCS,
        "A delivered status equals the REST API's representation of it for the same viewer "
        "(ignoring viewer-specific keys and filtered).",
    ),
    (
        "delivery.token-revoke.ends-stream",
        Level.SHOULD,
        "code",
        "streaming/index.js:523-544 (kill on timeline:access_token)",
        "Revoking the token ends the streams opened with it, after the revocation and within "
        "5 s x --timeout-multiplier of it.",
    ),
    (
        "delivery.latency.within-deadline",
        Level.SHOULD,
        "code",
        "mastodon-streaming.md §8-§9 (the streaming server relays each Redis message as it "
        "comes, after at most its filter queries; fan-out runs in Rails/Sidekiq workers); "
        "a late event shows a stale timeline but loses nothing, so SHOULD",
        "Every event of ours arrives within the delivery deadline (5 s x "
        "--timeout-multiplier) of its stimulus completing (REST answer or Redis publish).",
    ),
    (
        "delivery.read-only.observed",
        Level.INFO,
        "docs",
        _DOCS,
        "Read-only mode: traffic observed on the public stream during --observe-seconds.",
    ),
    (
        "ws.multiplex.delivers-each",
        Level.MUST,
        "docs",
        _DOCS,
        "One socket subscribed to several streams delivers each stream's events, tagged with it.",
    ),
    (
        "ws.multiplex.no-duplicates",
        Level.MUST,
        "code",
        "streaming/index.js:1203",
        "An event is delivered once per subscribed stream, never twice for one subscription.",
    ),
    (
        "ws.multiplex.unsubscribe-stops",
        Level.MUST,
        "docs",
        _DOCS,
        "After unsubscribe a stream's events stop arriving on the socket.",
    ),
    (
        "ws.multiplex.unsubscribe-keeps-others",
        Level.MUST,
        "docs",
        _DOCS,
        "Unsubscribing one stream leaves the socket's other subscriptions delivering.",
    ),
    (
        "delivery.create.once",
        Level.MUST,
        "docs",
        "divergences.md §3.20 (duplicates: mastodon/mastodon#28324, ihabunek/tooi#25). MUST: "
        "clients insert every update they receive, so a duplicate shows the status twice in "
        "the timeline (and counts a notification twice)",
        "One status creation gives exactly one update per subscription (SSE and WS).",
    ),
    (
        "delivery.edit.once",
        Level.MUST,
        "docs",
        "divergences.md §3.11 and §3.20 (an edit gives exactly one status.update). MUST for "
        "the same harm as delivery.create.once: a client without de-duplication shows it twice",
        "One edit gives exactly one status.update per subscription that got the status.",
    ),
    (
        "delivery.hashtag.case-insensitive",
        Level.MUST,
        "code",
        "mastodon-streaming.md §2 tag normalisation (channel uses the lower-cased tag; "
        "capture sse-11); divergences.md §3.17 (mastodon/mastodon#11508, #4804)",
        "A hashtag stream subscribed with a mixed-case tag receives statuses tagged in lower case.",
    ),
    (
        "delivery.notifications-merged.arrives",
        Level.MUST,
        "docs",
        _DOCS + " (notifications_merged, 4.3+)",
        "Merged filtered notifications are announced as notifications_merged on user and "
        "user:notification.",
    ),
):
    define(_id, _level, source=_source, clause=_clause, description=_text)
