"""Keep-alive on SSE streams: clients and proxies drop silent connections."""

from __future__ import annotations

from conformance.requirements import define

define(
    "sse.heartbeat.within-timeout",
    "MUST",
    source="client",
    clause="divergences.md §3.4 and §3.22 (a comment within 15-30 s of silence); "
    "Mastodon.py 300 s read timeout; proxies' idle timeouts",
    description="On an idle SSE stream some comment or event arrives in every window of the "
    "heartbeat timeout (default 20 s).",
)
define(
    "sse.heartbeat.interval",
    "SHOULD",
    source="code",
    clause="streaming/index.js:937 (':thump' every 15 000 ms); "
    "captures/mastodon-4.8.0-alpha.1/long-01-sse-heartbeat.jsonl",
    description="Heartbeat comments come about every 15 s; measured intervals are reported, and "
    "only a gap between comments beyond the timeout warns.",
)
define(
    "sse.heartbeat.form",
    "INFO",
    source="code",
    clause="mastodon/mastodon#37389 (':thump\\n\\n' since 4.6, ':thump\\n' before); "
    "halcy/Mastodon.py#434",
    description="Records the heartbeat bytes: a comment followed by a blank line or not; both "
    "are compatible.",
)
