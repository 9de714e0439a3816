"""Every requirement can fail: one mutated transcript per requirement id, judged as a violation.

Each row breaks exactly one thing in an otherwise conformant transcript; the test asserts the
requirement's Result has the violation verdict of its level (FAIL for MUST, WARN for SHOULD, INFO
with the observation for INFO). ``test_every_requirement_has_a_mutant`` keeps the table complete.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import transcript_builders as b

from conformance.judge import judge_transcript
from conformance.requirements import REGISTRY
from conformance.transcript.model import Transcript
from conformance.verdicts import Level, Verdict, verdict_for_violation

OWN_MODULES = (
    "http",
    "sse_framing",
    "heartbeat",
    "events",
    "payloads",
    "websocket",
    "errors",
    "auth",
    "stream_filters",
)
REQ_DIR = Path(__file__).resolve().parents[2] / "conformance" / "requirements"


def own_requirements() -> set[str]:
    ids: set[str] = set()
    for name in OWN_MODULES:
        ids.update(re.findall(r'define\(\s*"([^"]+)"', (REQ_DIR / f"{name}.py").read_text()))
    return ids


def _bad_sub(text: str) -> tuple[float, str, str, str]:
    return (0.05, "send", "text", text)


LONG = {"long": True}


def _status(**changes: object) -> str:
    status = {
        "id": "7",
        "visibility": "public",
        "account": {"id": "1", "acct": "alice"},
        "tags": [{"name": "foo"}],
        "media_attachments": [{"id": "3"}],
    }
    status.update(changes)
    return json.dumps(status)


def _on(
    stream: str, event: str, payload: str, path: str = "/api/v1/streaming/public"
) -> Transcript:
    """An SSE stream ``stream`` that delivered one foreign event (the run's tag is 'msc1')."""
    return b.sse(
        [(0.02, b":)\n"), (0.1, b.event(event, payload))],
        context={"stream": stream, "params": {"tag": "foo"}, "run_tag": "msc1"},
        path=path,
    )


ERR = {"purpose": "error"}

# requirement -> (mutant builder, substring the message must contain, judge kwargs)
MUTANTS: dict[str, tuple[Callable[[], Transcript], str, dict[str, bool]]] = {
    # -- health
    "http.health.status-ok": (
        lambda: b.http(status=503, body=b"OK", context={"purpose": "health"}),
        "503",
        {},
    ),
    "http.health.body-ok": (
        lambda: b.http(status=200, body=b"healthy", context={"purpose": "health"}),
        "healthy",
        {},
    ),
    "http.health.content-type-plain": (
        lambda: b.http(status=200, body=b"OK", context={"purpose": "health"}),
        "application/json",
        {},
    ),
    # -- SSE head and lifetime
    "http.sse.status-200": (lambda: b.sse(status=404, headers=[]), "404", {}),
    "http.sse.content-type-event-stream": (
        lambda: b.sse(headers=[["Content-Type", "text/plain"], ["Cache-Control", "no-store"]]),
        "text/plain",
        {},
    ),
    "http.sse.cache-control-no-store": (
        lambda: b.sse(headers=[["Content-Type", "text/event-stream"]]),
        "no-store",
        {},
    ),
    "http.sse.first-byte-prompt": (lambda: b.sse([(25.0, b":)\n")], end_t=30.0), "24.99", {}),
    "http.sse.opening-comment": (
        lambda: b.sse([(0.02, b.event("delete", "1"))]),
        "opens with an event",
        {},
    ),
    "http.sse.not-cut": (lambda: b.sse(end="incomplete"), "incomplete", {}),
    "http.sse.stays-open": (lambda: b.sse(end="eof"), "ended it", {}),
    # -- SSE framing
    "sse.framing.valid-lines": (lambda: b.sse([(0.1, b"event: delete\ndata:1\n\n")]), "data:1", {}),
    "sse.framing.lf-line-endings": (
        lambda: b.sse([(0.1, b"event: delete\r\ndata: 1\r\n\r\n")]),
        "CRLF",
        {},
    ),
    "sse.framing.event-field": (lambda: b.sse([(0.1, b"data: 1\n\n")]), "event:", {}),
    "sse.framing.data-field": (lambda: b.sse([(0.1, b"event: delete\n\n")]), "data:", {}),
    "sse.framing.blank-line-terminates-event": (
        lambda: b.sse([(0.1, b"event: delete\ndata: 1\nevent: delete\ndata: 2\n\n")]),
        "merged",
        {},
    ),
    "sse.framing.utf8": (lambda: b.sse([(0.1, b"event: delete\ndata: \xff\xfe\n\n")]), "UTF-8", {}),
    "sse.framing.no-id-retry": (
        lambda: b.sse([(0.1, b"event: delete\ndata: 1\nid: 7\n\n")]),
        "id:/retry:",
        {},
    ),
    "sse.framing.size-bounded": (
        lambda: b.sse([(0.02, b":)\n"), (0.1, b"data: " + b"x" * (1 << 20))]),
        "line longer than",
        {},
    ),
    "sse.framing.single-data-line": (
        lambda: b.sse([(0.1, b"event: delete\ndata: 1\ndata: 2\n\n")]),
        "several data",
        {},
    ),
    # -- heartbeat
    "sse.heartbeat.within-timeout": (
        lambda: b.sse([(0.02, b":)\n"), (25.0, b":thump\n\n")], end_t=30.0),
        "silence of 25.0",
        {},
    ),
    "sse.heartbeat.interval": (
        lambda: b.sse(
            [(0.02, b":)\n")] + [(t, b.event("delete", "1")) for t in (10.0, 20.0, 30.0, 40.0)],
            end_t=45.0,
        ),
        "without a comment",
        {},
    ),
    "sse.heartbeat.form": (
        lambda: b.sse(
            [(0.02, b":)\n"), (15.0, b":thump\n"), (16.0, b.event("delete", "1"))], end_t=20.0
        ),
        "no blank line",
        {},
    ),
    # -- events
    "events.name.documented": (lambda: b.sse([(0.1, b.event("made.up", "x"))]), "made.up", {}),
    "events.name.vendor-prefixed": (
        lambda: b.sse([(0.1, b.event("pleroma:chat_update", "{}"))]),
        "pleroma:chat_update",
        {},
    ),
    "payload.json.depth-bounded": (
        lambda: b.sse([(0.1, b.event("update", "[" * 65 + "]" * 65))]),
        "nested 65+ levels",
        {},
    ),
    "payload.size-bounded": (
        lambda: b.sse([(0.1, b.event("delete", "1" * 200_000 + "\ndata: " + "2" * 200_000))]),
        "bytes",
        {},
    ),
    "events.payload.json": (lambda: b.sse([(0.1, b.event("update", "not json"))]), "not JSON", {}),
    "events.delete.bare-id": (
        lambda: b.sse([(0.1, b.event("delete", '{"id":"1"}'))]),
        "bare id",
        {},
    ),
    "events.announcement-delete.bare-id": (
        lambda: b.sse([(0.1, b.event("announcement.delete", '"8"'))]),
        "bare id",
        {},
    ),
    "events.notifications-merged.bare-value": (
        lambda: b.sse([(0.1, b.event("notifications_merged", '{"n":1}'))]),
        "bare scalar",
        {},
    ),
    "events.filters-changed.no-payload": (
        lambda: b.sse([(0.1, b.event("filters_changed", "{}"))]),
        "without data",
        {},
    ),
    # -- payloads
    "payload.schema.valid": (
        lambda: b.sse([(0.1, b.event("update", '{"id":"1"}'))]),
        "expected key",
        {},
    ),
    "payload.ws.string": (
        lambda: b.ws([(0.1, "recv", "text", b.message("user", "update", {"id": "1"}))]),
        "JSON dict",
        {},
    ),
    # -- WebSocket handshake
    "ws.handshake.no-unoffered-subprotocol": (
        lambda: b.ws(
            request_headers=[["Authorization", "Bearer x"]],
            response_headers=[["Sec-WebSocket-Protocol", "surprise"]],
            context={"auth": "header"},
        ),
        "surprise",
        {},
    ),
    "ws.handshake.refused-without-valid-token": (
        lambda: b.ws(context={**ERR, "expect_status": 401, "expect_error": "Invalid access token"}),
        "observed 101",
        {},
    ),
    "ws.handshake.refused-status-401": (
        lambda: b.ws([], status=403, context={**ERR, "expect_error": "Invalid access token"}),
        "403",
        {},
    ),
    "ws.handshake.x-error-message": (
        lambda: b.ws([], status=401, context={**ERR, "expect_status": 401}),
        "no X-Error-Message",
        {},
    ),
    # -- WebSocket frames and messages
    "ws.frame.text": (lambda: b.ws([(0.1, "recv", "binary", b"\x00\x01")]), "binary", {}),
    "ws.frame.json": (lambda: b.ws([(0.1, "recv", "text", "pong")]), "not JSON", {}),
    "ws.message.shape": (
        lambda: b.ws([(0.1, "recv", "text", '{"event":"delete","payload":"1"}')]),
        "'stream' missing",
        {},
    ),
    "ws.message.stream-matches-subscription": (
        lambda: b.ws([(0.1, "recv", "text", b.message("public", "delete", "1"))]),
        "['public']",
        {},
    ),
    # -- WebSocket errors (a bad subscribe sent at t=0.05)
    "ws.error.reported": (
        lambda: b.ws([_bad_sub('{"type":"subscribe","stream":"nope"}')], path="/api/v1/streaming"),
        "observed none",
        {},
    ),
    "ws.error.frame-shape": (
        lambda: b.ws(
            [
                _bad_sub('{"type":"subscribe","stream":"nope"}'),
                (0.06, "recv", "text", '{"error":"Unknown stream type"}'),
            ],
            path="/api/v1/streaming",
        ),
        "status",
        {},
    ),
    "ws.error.message-exact": (
        lambda: b.ws(
            [
                _bad_sub('{"type":"subscribe","stream":"hashtag"}'),
                (0.06, "recv", "text", '{"error":"bad","status":400}'),
            ],
            path="/api/v1/streaming",
        ),
        "Missing tag name parameter",
        {},
    ),
    "ws.error.socket-stays-open": (
        lambda: b.ws(
            [
                _bad_sub('{"type":"subscribe","stream":"nope"}'),
                (0.06, "recv", "close", (b"\x03\xf0", {"close_code": 1008, "close_reason": ""})),
            ],
            path="/api/v1/streaming",
            end="eof",
        ),
        "1008",
        {},
    ),
    # -- ping / pong / close
    "ws.ping.pong": (lambda: b.ws([(0.05, "send", "ping", b"p")], end_t=12.0), "observed none", {}),
    "ws.ping.server-keepalive": (
        lambda: b.ws([(0.05, "recv", "text", b.message("user", "delete", "1"))], end_t=70.0),
        "largest gap",
        LONG,
    ),
    "ws.ping.no-pong-terminated": (
        lambda: b.ws([(29.0, "recv", "ping", b"")], end_t=70.0),
        "still open",
        LONG,
    ),
    "ws.close.binary-1003": (
        lambda: b.ws(
            [
                (0.05, "send", "binary", b"\x01"),
                (0.06, "recv", "close", (b"\x03\xe8", {"close_code": 1000, "close_reason": ""})),
            ],
            end="eof",
        ),
        "Mastodon: 1003",
        {},
    ),
    # -- refused SSE requests: served instead of refused
    **{
        req: (lambda msg=msg: b.sse(context={**ERR, "expect_error": msg}), "4xx", {})
        for req, msg in {
            "errors.sse.missing-token": "Missing access token",
            "errors.sse.invalid-token": "Invalid access token",
            "errors.sse.unknown-channel": "Unknown channel requested",
            "errors.sse.missing-tag": "Missing tag name parameter",
            "errors.sse.missing-list": "Missing list name parameter",
            "errors.sse.list-not-authorized": "Not authorized to stream this list",
            "errors.sse.insufficient-scope": "Access token does not have the required scopes",
        }.items()
    },
    "errors.http.refused": (lambda: b.sse(context={**ERR, "expect_status": 500}), ">= 400", {}),
    "errors.http.status-exact": (
        lambda: b.http(status=400, body=b'{"error":"x"}', context={"expect_status": 401}),
        "401",
        {},
    ),
    "errors.http.json-body": (lambda: b.http(status=401, body=b"Unauthorized"), "not JSON", {}),
    "errors.http.content-type-json": (
        lambda: b.http(status=401, body=b'{"error":"x"}', content_type="text/plain"),
        "text/plain",
        {},
    ),
    "errors.http.message-exact": (
        lambda: b.http(
            status=401, body=b'{"error":"nope"}', context={"expect_error": "Invalid access token"}
        ),
        "'nope'",
        {},
    ),
    # -- token sources
    "auth.sse.token-header": (lambda: b.sse(status=401, headers=[]), "401", {}),
    "auth.sse.token-query": (
        lambda: b.sse(status=401, headers=[], context={"auth": "query"}),
        "401",
        {},
    ),
    "auth.sse.token-subprotocol": (
        lambda: b.sse(status=401, headers=[], context={"auth": "subprotocol"}),
        "401",
        {},
    ),
    "auth.ws.token-header": (
        lambda: b.ws(
            [],
            status=401,
            request_headers=[["Authorization", "Bearer x"]],
            context={"auth": "header"},
        ),
        "401",
        {},
    ),
    "auth.ws.token-query": (
        lambda: b.ws([], status=401, request_headers=[], context={"auth": "query"}),
        "401",
        {},
    ),
    "auth.ws.token-subprotocol": (lambda: b.ws([], status=401), "401", {}),
    "auth.token-source.subprotocol-echoed": (
        lambda: b.ws(response_headers=[["Upgrade", "websocket"]]),
        "observed none",
        {},
    ),
    "auth.anonymous.public-streams": (
        lambda: b.sse(
            request_headers=[],
            context={"auth": "none", "stream": "public"},
            path="/api/v1/streaming/public",
        ),
        "served anonymously",
        {},
    ),
    # -- what each stream carries (foreign traffic: no stimulus of the run caused these)
    "stream.filter.hashtag-tag": (
        lambda: _on("hashtag", "update", _status(tags=[{"name": "other"}])),
        "not ours",
        {},
    ),
    "stream.filter.local-only": (
        lambda: _on("public:local", "update", _status(account={"id": "2", "acct": "c@r.example"})),
        "a remote author",
        {},
    ),
    "stream.filter.remote-only": (
        lambda: _on("public:remote", "update", _status()),
        "a local author",
        {},
    ),
    "stream.filter.media-only": (
        lambda: _on("public:media", "update", _status(media_attachments=[])),
        "without media",
        {},
    ),
    "stream.filter.public-only": (
        lambda: _on("public", "update", _status(visibility="unlisted")),
        "'unlisted'",
        {},
    ),
    "stream.filter.direct-only": (
        lambda: _on("direct", "update", _status(), "/api/v1/streaming/direct"),
        "never carries",
        {},
    ),
    "stream.filter.notification-only": (
        lambda: _on("user:notification", "update", _status(), "/api/v1/streaming/user"),
        "never carries",
        {},
    ),
    "events.notification.known-type": (
        lambda: _on(
            "user",
            "notification",
            json.dumps({"id": "1", "type": "pleroma:emoji_reaction"}),
            "/api/v1/streaming/user",
        ),
        "not documented",
        {},
    ),
}


def test_every_requirement_has_a_mutant() -> None:
    mine = own_requirements()
    assert len(mine) >= 50
    assert mine <= set(REGISTRY)
    assert sorted(mine - set(MUTANTS)) == []
    assert sorted(set(MUTANTS) - mine) == []


@pytest.mark.parametrize("requirement", sorted(MUTANTS))
def test_mutant_violates(requirement: str) -> None:
    build, needle, kwargs = MUTANTS[requirement]
    results = [r for r in judge_transcript(build(), **kwargs) if r.requirement == requirement]
    assert results, f"no Result for {requirement}"
    level = REGISTRY[requirement].level
    expected = Verdict.INFO if level is Level.INFO else verdict_for_violation(level)
    hits = [r for r in results if r.verdict is expected]
    assert hits, [(r.verdict, r.message) for r in results]
    assert any(needle in r.message for r in hits), [r.message for r in hits]
