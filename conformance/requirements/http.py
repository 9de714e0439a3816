"""HTTP-level requirements: the health endpoint and the head of an SSE response.

Levels follow the suite policy: what the docs state or clients break without is MUST; what Mastodon
does and a compatible server ought to share is SHOULD; what is incidental is INFO.
"""

from __future__ import annotations

from conformance.requirements import define

define(
    "http.health.status-ok",
    "MUST",
    source="docs",
    clause="streaming.md 'Check if the server is alive' (GET /api/v1/streaming/health); "
    "streaming/index.js:263-266",
    description="GET /api/v1/streaming/health without authentication answers 200.",
)
define(
    "http.health.body-ok",
    "MUST",
    source="docs",
    clause="streaming.md 'Check if the server is alive': returns OK; Mastodon.py stream_healthy()",
    description="The health body is exactly OK (a GET; HEAD has no body).",
)
define(
    "http.health.content-type-plain",
    "INFO",
    source="capture",
    clause="captures/mastodon-4.8.0-alpha.1/http-01-health.http",
    description="Mastodon serves the health body as text/plain; other types are only recorded.",
)
define(
    "http.sse.status-200",
    "MUST",
    source="client",
    clause="Mastodon.py requires status 200 (divergences.md §2); RasmusLindroth/tut#235",
    description="An authorised SSE stream request answers 200.",
)
define(
    "http.sse.content-type-event-stream",
    "MUST",
    source="spec",
    clause="WHATWG HTML §9.2 (EventSource fails the connection on another MIME type); "
    "streaming/index.js:931-933",
    description="A 200 SSE response has Content-Type text/event-stream.",
)
define(
    "http.sse.cache-control-no-store",
    "SHOULD",
    source="code",
    clause="streaming/index.js:931-933 (Cache-Control: private, no-store)",
    description="A 200 SSE response carries Cache-Control containing no-store, so proxies do not "
    "buffer or cache it.",
)
define(
    "http.sse.first-byte-prompt",
    "MUST",
    source="client",
    clause="halcy/Mastodon.py#399 (buffered streams hang); mastodon/mastodon#12945",
    description="Some body byte (comment or event) arrives before the heartbeat deadline (+1 s x "
    "--timeout-multiplier margin) after the response head: the stream is flushed, not buffered.",
)
define(
    "http.sse.opening-comment",
    "INFO",
    source="code",
    clause="streaming/index.js:935 (res.write(':)\\n'))",
    description="Mastodon opens every SSE stream with the comment ':)'; recorded, not required.",
)
define(
    "http.sse.not-cut",
    "MUST",
    source="spec",
    clause="RFC 9112 §7.1 (chunked message ends with the last-chunk); "
    "captures/mastodon-4.8.0-alpha.1/crash-01-update-string-payload-on-public.jsonl",
    description="The SSE response is never cut mid-message (no reset, no missing last chunk).",
)
define(
    "http.sse.stays-open",
    "MUST",
    source="code",
    clause="streaming/index.js:939-975 (the response ends only on client close or kill). "
    "MUST: every event published while the client reconnects is lost (SSE has no replay in "
    "Mastodon: no id:, no Last-Event-ID), and Mastodon.py's stream_* calls return at the end "
    "of the stream unless reconnect_async is set, so the timeline silently stops.",
    description="The server keeps an SSE stream open until the client closes it, unless the "
    "token was revoked.",
)
