"""What each stream may carry, judged on every event whoever caused it (foreign traffic too).

The delivery matrix (``delivery.py``) proves the suite's own stimuli reach the right streams; these
rules judge every event a stream delivered against the stream's definition, so a server that puts
someone else's status on the wrong stream is caught even when none of the suite's stimuli leaked.
All MUST: a client shows whatever a stream delivers, so a wrong event is a wrong timeline, and on
public streams a non-public status is a privacy leak.
"""

from __future__ import annotations

from conformance.requirements import define

define(
    "stream.filter.hashtag-tag",
    "MUST",
    source="code",
    clause="FanOutOnWriteService (timeline:hashtag:<tag lower-cased>); streaming/index.js "
    "(hashtag channels). MUST: a hashtag column that shows untagged statuses is a wrong timeline.",
    description="Every status on a hashtag stream carries the stream's tag (case-insensitively).",
)
define(
    "stream.filter.local-only",
    "MUST",
    source="code",
    clause="FanOutOnWriteService (timeline:public:local only for local statuses). MUST: the "
    "local timeline is the instance's own community; remote authors there mislead users.",
    description="A *:local stream carries no status by a remote author.",
)
define(
    "stream.filter.remote-only",
    "MUST",
    source="code",
    clause="FanOutOnWriteService (timeline:public:remote only for remote statuses). MUST: "
    "clients offer it as the federated-only timeline.",
    description="A public:remote stream carries no status by a local author.",
)
define(
    "stream.filter.media-only",
    "MUST",
    source="code",
    clause="FanOutOnWriteService (timeline:*:media only with media_attachments). MUST: media "
    "columns (e.g. Mastodon web's 'Media only') render attachments and break on text-only.",
    description="A *:media stream carries only statuses with media attachments.",
)
define(
    "stream.filter.public-only",
    "MUST",
    source="code",
    clause="FanOutOnWriteService (public/hashtag channels only for public statuses); "
    "streaming.md. MUST: an unlisted, private or direct status on a public stream is a "
    "privacy leak to every anonymous-looking reader.",
    description="Public and hashtag streams carry only public statuses (and their deletes).",
)
define(
    "stream.filter.direct-only",
    "MUST",
    source="code",
    clause="PushConversationWorker (timeline:direct:<id> carries conversation events only). "
    "MUST: a direct-messages column renders each event as a conversation.",
    description="The direct stream carries no timeline statuses, notifications or announcements.",
)
define(
    "stream.filter.notification-only",
    "MUST",
    source="code",
    clause="streaming/index.js (user:notification subscribes timeline:<id>:notifications only). "
    "MUST: a notifications column renders each event as a notification.",
    description="The user:notification stream carries no timeline statuses or conversations.",
)
