"""How many connections a server serves at once, judged once per run rather than per case."""

from __future__ import annotations

from conformance.requirements import define

define(
    "http.concurrency.capacity",
    "SHOULD",
    source="client",
    clause="Mastodon sets no per-user stream limit; multi-column clients (Mastodon's advanced "
    "web UI, Phanpy, Elk) hold a stream per column plus notifications. SHOULD, not MUST: a "
    "limit is a deployment choice, but a server that stops answering beyond a few dozen "
    "streams breaks such clients; one finding instead of an error per unopened connection.",
    description="The server answers every connection of a run opened at most --max-connections "
    "at a time (no 503/429 or silence from overload).",
)
