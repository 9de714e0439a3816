"""Why a requirement has the level it has, where issue 10 decided it by the harm to clients.

Applied to the registry after every area module is loaded (``requirements._load_areas``);
``mastodon-streaming-conformance list`` prints each reason under its requirement and the JSON
listing carries it as ``level_reason``. The README's level policy quotes the same table.
"""

from __future__ import annotations

LEVEL_REASONS: dict[str, str] = {
    "auth.anonymous.public-streams": "MUST (was INFO): the docs require a token on every stream "
    "since 4.2; serving public timelines anonymously exposes them to any scraper",
    "errors.sse.missing-token": "MUST 401 (was any 4xx): clients re-authenticate only on 401; "
    "another status reads as transient and is retried forever",
    "errors.sse.invalid-token": "MUST 401 (was any 4xx): as errors.sse.missing-token",
    "errors.http.status-exact": "SHOULD: a 404 for an unknown stream or 422 for a missing tag "
    "is still a refusal clients report; only the token refusals' 401 changes client behaviour",
    "delivery.create.once": "MUST (was SHOULD): clients insert every update, so a duplicate "
    "shows the status twice",
    "delivery.edit.once": "MUST (was SHOULD): as delivery.create.once, for status.update",
    "ws.multiplex.no-duplicates": "MUST: the same event twice on one subscription shows twice",
    "http.sse.stays-open": "MUST (was SHOULD): events published while a client reconnects are "
    "lost (no replay), and Mastodon.py's stream calls return at the end of the stream",
    "events.notification.known-type": "INFO (was a SHOULD warning of payload.schema.valid): "
    "Mastodon adds types in minor releases and clients ignore unknown ones",
    "stream.filter.public-only": "MUST: a non-public status on a public stream is a privacy leak",
    "delivery.latency.within-deadline": "SHOULD: a late event still reaches the timeline "
    "(nothing is lost, unlike a missing one), and Mastodon's own fan-out runs in Sidekiq, which "
    "a busy instance delays; the arrival checks warn with it as the cause",
    "http.concurrency.capacity": "SHOULD: a limit is a deployment choice, but multi-column "
    "clients hold a stream per column",
}
