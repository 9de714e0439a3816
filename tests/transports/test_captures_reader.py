"""The captures reader: every recorded Mastodon capture becomes a transcript a judge can trust.

The de-chunked body must equal the capture's own ``.body.txt`` byte for byte, heartbeats keep
their times, and the crash capture ends ``incomplete``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.sse.parser import parse_sse_transcript
from conformance.transcript.captures import load_capture, load_captures, only_media_truthy
from conformance.transcript.model import Transcript


def _lines(text: str) -> list[object]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def captures(captures_dir: Path) -> dict[str, Transcript]:
    return {t.meta.id: t for t in load_captures(captures_dir)}


def test_every_capture_loads(captures_dir: Path, captures: dict[str, Transcript]) -> None:
    files = [p for p in captures_dir.glob("*.jsonl") if not p.name.startswith("_")]
    assert len(captures) == len(files) > 90
    for transcript in captures.values():
        assert transcript.meta.source == f"capture:{transcript.meta.id}"
        assert transcript.meta.server.get("version") == "4.8.0-alpha.1"
        # round trip through the JSONL form
        again = Transcript.loads(transcript.dumps()).dumps()
        assert _lines(again) == _lines(transcript.dumps())


def test_bodies_equal_the_captured_body_files(
    captures_dir: Path, captures: dict[str, Transcript]
) -> None:
    checked = 0
    for body_file in captures_dir.glob("*.body.txt"):
        cid = body_file.name.removesuffix(".body.txt")
        assert captures[cid].body == body_file.read_bytes(), cid
        checked += 1
    assert checked > 60


def test_sse_streams_parse_without_framing_violations(
    captures: dict[str, Transcript], capture_verdicts: dict[str, str]
) -> None:
    streams = [
        t
        for t in captures.values()
        if t.meta.transport == "sse" and t.meta.context["purpose"] == "stream" and t.head
    ]
    assert len(streams) > 30
    for transcript in streams:
        parsed = parse_sse_transcript(transcript)
        assert parsed.comments and parsed.comments[0].text == ")", transcript.meta.id
        assert parsed.comments[0].raw == b":)\n"
        if capture_verdicts[transcript.meta.id] == "conformant":
            assert parsed.violations == [], transcript.meta.id
            assert parsed.line_endings == {"\n"}
        # every "event:" line of the body became exactly one event
        assert len(parsed.events) == transcript.body.count(b"\nevent: "), transcript.meta.id
        assert all(e.has_data for e in parsed.events)


def test_heartbeats_keep_their_times(captures: dict[str, Transcript]) -> None:
    parsed = parse_sse_transcript(captures["long-01-sse-heartbeat"])
    thumps = [c for c in parsed.comments if c.text == "thump"]
    assert [round(c.t, 1) for c in thumps] == [15.0, 30.0, 45.0]
    assert all(c.raw == b":thump\n" for c in thumps)
    assert [e.event for e in parsed.events] == ["update"]
    assert parsed.events[0].t > 45.0


def test_crash_capture_ends_incomplete(captures: dict[str, Transcript]) -> None:
    transcript = captures["crash-01-update-string-payload-on-public"]
    end = transcript.end
    assert end is not None and end.fields["how"] == "incomplete"
    assert end.t == pytest.approx(0.031017)
    assert transcript.head is not None and transcript.head.fields["status"] == 200
    stimuli = list(transcript.of_kind("stimulus"))
    assert stimuli[0].fields["action"] == "redis-publish"
    assert stimuli[0].fields["detail"]["channel"] == "timeline:public"


def test_response_head_keeps_wire_order_and_case(captures: dict[str, Transcript]) -> None:
    head = captures["sse-01-user"].head
    assert head is not None
    names = [name for name, _ in head.fields["headers"]]
    assert names[:4] == [
        "X-Powered-By",
        "X-Request-Id",
        "Access-Control-Allow-Origin",
        "Content-Type",
    ]
    assert head.fields["http_version"] == "HTTP/1.1"
    assert head.fields["reason"] == "OK"


def test_head_request_has_no_body(captures: dict[str, Transcript]) -> None:
    transcript = captures["http-05-head-health"]
    assert transcript.meta.request["method"] == "HEAD"
    assert transcript.body == b""
    assert transcript.end is not None and transcript.end.fields["how"] == "eof"


def test_error_responses_end_eof_with_json_body(captures: dict[str, Transcript]) -> None:
    transcript = captures["sse-err-01-user-no-token"]
    assert transcript.meta.transport == "sse"
    assert transcript.meta.context["purpose"] == "error"
    assert transcript.head is not None and transcript.head.fields["status"] == 401
    assert transcript.body.startswith(b'{"error":')
    assert transcript.end is not None and transcript.end.fields["how"] == "eof"


def test_ws_frames_and_close(captures: dict[str, Transcript]) -> None:
    binary = captures["ws-13-binary-message"]
    closes = [r for r in binary.of_kind("ws-frame-recv") if r.fields["opcode"] == "close"]
    assert closes[0].fields["close_code"] == 1003
    assert closes[0].fields["close_reason"].startswith("The mastodon streaming server")
    assert closes[0].data[:2] == b"\x03\xeb"
    kill = captures["ws-14-kill-access-token"]
    kill_close = [r for r in kill.of_kind("ws-frame-recv") if r.fields["opcode"] == "close"]
    assert kill_close[0].fields["close_code"] is None and kill_close[0].data == b""
    assert kill_close[0].fields["header_hex"] == "8800"
    ping = captures["long-02-ws-server-ping"]
    pings = [r for r in ping.of_kind("ws-frame-recv") if r.fields["opcode"] == "ping"]
    assert [round(r.t) for r in pings] == [30, 60]
    assert ping.end is not None and ping.end.fields["how"] == "eof"


def test_refused_ws_upgrade(captures: dict[str, Transcript]) -> None:
    transcript = captures["ws-28-bad-websocket-version"]
    assert transcript.meta.transport == "ws"
    assert transcript.meta.context["purpose"] == "handshake"
    assert transcript.head is not None and transcript.head.fields["status"] == 400
    assert transcript.body == b"Missing or invalid Sec-WebSocket-Version header"
    assert transcript.header("Sec-WebSocket-Version") == "13, 8"


def test_context_derivation(captures: dict[str, Transcript]) -> None:
    ctx = captures["sse-04-public-only-media"].meta.context
    assert (ctx["stream"], ctx["params"], ctx["auth"]) == (
        "public:media",
        {"only_media": "true"},
        "header",
    )
    assert captures["sse-06-public-local-only-media"].meta.context["stream"] == "public:local:media"
    assert captures["sse-14-token-query-param"].meta.context["auth"] == "query"
    assert "access_token" not in captures["sse-14-token-query-param"].meta.context["params"]
    assert captures["sse-15-token-sec-websocket-protocol-header"].meta.context["auth"] == (
        "subprotocol"
    )
    assert captures["sse-09-hashtag"].meta.context["params"] == {"tag": "fediverse"}
    assert captures["http-01-health"].meta.context["purpose"] == "health"
    ws = captures["ws-08-multiplex-subscribe-unsubscribe"].meta.context
    assert ws["purpose"] == "stream" and ws["stream"] is None
    assert len(ws["subscriptions"]) == 12
    assert {"stream": "hashtag", "tag": "Fediverse"} in ws["subscriptions"]
    ws23 = captures["ws-23-hashtag-query-params"].meta.context
    assert (ws23["stream"], ws23["params"]) == ("hashtag", {"tag": "Café"})
    assert captures["ws-26-authorization-wins-over-query"].meta.context["auth"] == "header"
    assert captures["ws-01-user-subprotocol"].meta.request["url"].startswith("ws://127.0.0.1")


@pytest.mark.parametrize(
    ("value", "truthy"),
    [
        ("true", True),
        ("1", True),
        ("yes", True),
        ("no", True),
        ("False", True),
        ("false", False),
        ("0", False),
        ("f", False),
        ("FALSE", False),
        ("off", False),
        ("OFF", False),
        ("", False),
        (None, False),
    ],
)
def test_only_media_truthiness_matches_sse_19(value: str | None, truthy: bool) -> None:
    assert only_media_truthy(value) is truthy


def test_load_single_capture(captures_dir: Path) -> None:
    transcript = load_capture(captures_dir / "http-01-health.jsonl")
    assert transcript.meta.transport == "http"
    assert transcript.body == b"OK"
    kinds = [r.kind for r in transcript.records]
    assert kinds == ["connect", "response-head", "body-chunk", "end"]
