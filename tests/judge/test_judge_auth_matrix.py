"""The auth matrix: dropped refusals fail (never pass, never not_exercised), anonymous public
access fails, and the plan probes every token source and every stream kind."""

from __future__ import annotations

import transcript_builders as b

from conformance.config import Settings
from conformance.judge import judge_transcript
from conformance.session.plan.connections import TOKEN_MATRIX_STREAMS, WS_AUTH, connections
from conformance.transcript.model import Meta, Transcript
from conformance.verdicts import Verdict

MISSING = {"purpose": "error", "expect_status": 401, "expect_error": "Missing access token"}
INVALID = {"purpose": "error", "expect_status": 401, "expect_error": "Invalid access token"}


def _dropped(transport: str, context: dict[str, object], how: str, detail: str) -> Transcript:
    """A refusal probe whose server reached us and then dropped the connection: no head."""
    meta = Meta(
        id="t",
        transport=transport,
        request={"method": "GET", "path": "/api/v1/streaming/user", "headers": []},
        context={"stream": "user", "auth": "none", "case": "t", **context},
    )
    tr = Transcript(meta=meta)
    tr.add(0.02, "end", how=how, detail=detail)
    return tr


def _verdicts(tr: Transcript, requirement: str) -> list[tuple[Verdict, str]]:
    return [(r.verdict, r.message) for r in judge_transcript(tr) if r.requirement == requirement]


def test_a_dropped_sse_refusal_fails_with_the_evidence() -> None:
    for how in ("reset", "incomplete", "eof"):
        tr = _dropped("http", MISSING, how, "ConnectionResetError: peer reset")
        got = _verdicts(tr, "errors.sse.missing-token")
        assert [v for v, _ in got] == [Verdict.FAIL], got
        assert "dropped without a response" in got[0][1]
        evidence = [r.evidence for r in judge_transcript(tr) if r.verdict is Verdict.FAIL]
        assert any(e and "peer reset" in e for e in evidence)


def test_a_dropped_ws_refusal_is_no_pass() -> None:
    tr = _dropped("ws", INVALID, "eof", "server closed the connection during the handshake")
    got = _verdicts(tr, "ws.handshake.refused-without-valid-token")
    assert [v for v, _ in got] == [Verdict.FAIL], got


def test_a_server_that_never_connected_leaves_the_refusal_unexercised() -> None:
    tr = _dropped("http", MISSING, "error", "connect failed: ConnectError: refused")
    assert [v for v, _ in _verdicts(tr, "errors.sse.missing-token")] == [Verdict.NOT_EXERCISED]


def test_anonymous_public_access_fails_on_both_transports() -> None:
    ctx = {**MISSING, "auth": "none", "stream": "public"}
    sse = b.http(status=200, body=b":)\n", content_type="text/event-stream", context=ctx)
    ws = b.ws([], context={**ctx, "stream": "hashtag"}, request_headers=[])
    for tr in (sse, ws):
        got = _verdicts(tr, "auth.anonymous.public-streams")
        assert [v for v, _ in got] == [Verdict.FAIL], got
        assert "served anonymously" in got[0][1]


def test_anonymous_public_refused_with_401_passes() -> None:
    ctx = {**MISSING, "auth": "none", "stream": "public:local"}
    tr = b.http(status=401, body=b'{"error":"Missing access token"}', context=ctx)
    assert [v for v, _ in _verdicts(tr, "auth.anonymous.public-streams")] == [Verdict.PASS]


def test_plan_refuses_missing_and_invalid_tokens_on_every_stream_kind_and_transport() -> None:
    conns = {c.key: c for c in connections(Settings())}
    refusals = [c for c in conns.values() if c.purpose == "error" and c.expect_status == 401]
    seen = {
        (c.transport, c.stream, c.expect_error) for c in refusals if c.token in ("none", "invalid")
    }
    for kind in TOKEN_MATRIX_STREAMS:
        for transport in ("http", "ws"):
            for error in ("Missing access token", "Invalid access token"):
                assert (transport, kind, error) in seen, (transport, kind, error)


def test_main_ws_connections_use_the_query_token_and_each_source_has_a_probe() -> None:
    conns = connections(Settings())
    ws_main = [c for c in conns if c.transport == "ws" and c.purpose == "stream"]
    probes = {c.key for c in ws_main if c.key.startswith("ws-user-auth-")}
    assert probes == {"ws-user-auth-header", "ws-user-auth-query", "ws-user-auth-subprotocol"}
    assert {c.auth for c in ws_main if c.key not in probes} == {WS_AUTH} == {"query"}
    sse_probes = {c.key for c in conns if c.key.startswith("sse-user-auth-")}
    assert sse_probes == {
        "sse-user-auth-header",
        "sse-user-auth-query",
        "sse-user-auth-subprotocol",
    }
