"""The other half of "a check can fail": on Mastodon's own bytes each requirement holds.

One capture per requirement where it applies; the Result must be ``pass`` (``info`` for INFO
requirements). Captures are read with the suite's capture reader and the replay expectations.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.replay import replay_results
from conformance.requirements import REGISTRY
from conformance.transcript.captures import load_capture
from conformance.verdicts import Level, Verdict

PASSES_ON = {
    "http.health.status-ok": "http-01-health",
    "http.health.body-ok": "http-01-health",
    "http.health.content-type-plain": "http-01-health",
    "http.sse.status-200": "sse-01-user",
    "http.sse.content-type-event-stream": "sse-01-user",
    "http.sse.cache-control-no-store": "sse-01-user",
    "http.sse.first-byte-prompt": "sse-01-user",
    "http.sse.opening-comment": "sse-01-user",
    "http.sse.not-cut": "sse-01-user",
    "http.sse.stays-open": "sse-20-kill-access-token",
    "sse.framing.valid-lines": "sse-01-user",
    "sse.framing.lf-line-endings": "sse-01-user",
    "sse.framing.event-field": "sse-01-user",
    "sse.framing.data-field": "sse-01-user",
    "sse.framing.blank-line-terminates-event": "sse-01-user",
    "sse.framing.utf8": "sse-01-user",
    "sse.framing.no-id-retry": "sse-01-user",
    "sse.framing.single-data-line": "sse-01-user",
    "sse.heartbeat.within-timeout": "long-01-sse-heartbeat",
    "sse.heartbeat.interval": "long-01-sse-heartbeat",
    "sse.heartbeat.form": "long-01-sse-heartbeat",
    "events.name.documented": "sse-22-user-passthrough-and-malformed",
    "events.payload.json": "sse-01-user",
    "events.delete.bare-id": "sse-03-public",
    "events.announcement-delete.bare-id": "ws-01-user-subprotocol",
    "events.notifications-merged.bare-value": "sse-01-user",
    "payload.schema.valid": "sse-01-user",
    "payload.ws.string": "ws-01-user-subprotocol",
    "ws.handshake.no-unoffered-subprotocol": "ws-02-user-authorization-header",
    "ws.handshake.refused-without-valid-token": "ws-05-invalid-token",
    "ws.handshake.refused-status-401": "ws-04-no-token",
    "ws.handshake.x-error-message": "ws-04-no-token",
    "ws.frame.text": "ws-01-user-subprotocol",
    "ws.frame.json": "ws-09-subscribe-errors-and-ignored-messages",
    "ws.message.shape": "ws-01-user-subprotocol",
    "ws.message.stream-matches-subscription": "ws-23-hashtag-query-params",
    "ws.error.reported": "ws-09-subscribe-errors-and-ignored-messages",
    "ws.error.frame-shape": "ws-09-subscribe-errors-and-ignored-messages",
    "ws.error.message-exact": "ws-09-subscribe-errors-and-ignored-messages",
    "ws.error.socket-stays-open": "ws-09-subscribe-errors-and-ignored-messages",
    "ws.ping.pong": "ws-09-subscribe-errors-and-ignored-messages",
    "ws.ping.server-keepalive": "long-02-ws-server-ping",
    "ws.ping.no-pong-terminated": "long-03-ws-no-pong-terminated",
    "ws.close.binary-1003": "ws-13-binary-message",
    "errors.sse.missing-token": "sse-err-01-user-no-token",
    "errors.sse.invalid-token": "sse-err-03-user-revoked-token",
    "errors.sse.unknown-channel": "sse-err-08-bare-streaming-path",
    "errors.sse.missing-tag": "sse-err-09-hashtag-missing-tag",
    "errors.sse.missing-list": "sse-err-11-list-missing-list",
    "errors.sse.list-not-authorized": "sse-err-12-list-not-owned",
    "errors.sse.insufficient-scope": "sse-err-15-public-scope-profile",
    "errors.http.refused": "sse-err-23-hashtag-tag-repeated",
    "errors.http.status-exact": "sse-err-05-user-suspended-account",
    "errors.http.json-body": "sse-err-06-unknown-channel",
    "errors.http.content-type-json": "sse-err-06-unknown-channel",
    "errors.http.message-exact": "sse-err-17-public-scope-read-notifications",
    "auth.sse.token-header": "sse-23-authorization-without-bearer-prefix",
    "auth.sse.token-query": "sse-14-token-query-param",
    "auth.sse.token-subprotocol": "sse-15-token-sec-websocket-protocol-header",
    "auth.ws.token-header": "ws-02-user-authorization-header",
    "auth.ws.token-query": "ws-03-user-query-token",
    "auth.ws.token-subprotocol": "ws-01-user-subprotocol",
    "auth.token-source.subprotocol-echoed": "ws-01-user-subprotocol",
}
# No capture exercises these: vendor-prefixed names (Pleroma only), filters_changed (Mastodon
# >=4.3 never sends it) and anonymous public streams (refused before 4.2's change was captured).
NOT_IN_CAPTURES = {
    "events.name.vendor-prefixed",
    "events.filters-changed.no-payload",
    "auth.anonymous.public-streams",
}


@pytest.mark.parametrize("requirement", sorted(PASSES_ON))
def test_requirement_holds_on_mastodon(requirement: str, captures_dir: Path) -> None:
    capture = PASSES_ON[requirement]
    results = [
        r
        for r in replay_results([load_capture(captures_dir / f"{capture}.jsonl")])
        if r.requirement == requirement
    ]
    assert results, f"{requirement} not judged on {capture}"
    want = Verdict.INFO if REGISTRY[requirement].level is Level.INFO else Verdict.PASS
    if requirement == "events.name.documented":
        assert all(r.verdict is Verdict.INFO for r in results)
        return
    assert all(r.verdict is want for r in results), [(r.id, r.verdict, r.message) for r in results]
