"""The judges the probe sockets rely on: a ping window from the context, explicit expect_close."""

from __future__ import annotations

import json
from typing import Any

from conformance.judge import judge_transcript, planned_results
from conformance.transcript.model import Meta, Transcript
from conformance.verdicts import Verdict


def _ws(pings: list[float], end_t: float, context: dict[str, Any]) -> Transcript:
    meta = Meta(
        id="t",
        transport="ws",
        request={"method": "GET", "path": "/api/v1/streaming?stream=user", "headers": []},
        context={"purpose": "stream", "stream": "user", "auth": "header", "case": "t", **context},
    )
    tr = Transcript(meta=meta)
    tr.add(0.0, "connect")
    tr.add(0.0, "response-head", status=101, reason="", http_version="HTTP/1.1", headers=[])
    for t in pings:
        tr.add(t, "ws-frame-recv", opcode="ping", data=b"")
    tr.add(end_t, "end", how="client-close", detail="")
    return tr


def _sse_eof(context: dict[str, Any], stimulus: dict[str, Any] | None = None) -> Transcript:
    meta = Meta(
        id="t",
        transport="sse",
        request={"method": "GET", "path": "/api/v1/streaming/user", "headers": []},
        context={"purpose": "stream", "stream": "user", "auth": "header", **context},
    )
    tr = Transcript(meta=meta)
    tr.add(0.0, "connect")
    tr.add(
        0.01,
        "response-head",
        status=200,
        reason="",
        http_version="HTTP/1.1",
        headers=[["Content-Type", "text/event-stream"]],
    )
    tr.add(0.02, "body-chunk", data=b":)\n")
    if stimulus is not None:
        tr.add(0.03, "stimulus", **stimulus)
    tr.add(0.04, "end", how="eof", detail="")
    return tr


def _by_id(transcript: Transcript) -> dict[str, Any]:
    return {r.id: r for r in judge_transcript(transcript)}


def _stays_open(transcript: Transcript) -> Verdict:
    found = [r for r in judge_transcript(transcript) if r.requirement == "http.sse.stays-open"]
    assert len(found) == 1
    return found[0].verdict


LONG = {"long": True, "answer_pings": True}


def test_keepalive_window_comes_from_the_ping_timeout() -> None:
    rid = "ws.ping.server-keepalive[t]"
    ok = _by_id(_ws([0.9, 1.9], 2.7, {**LONG, "ping_timeout_s": 2.5}))
    assert ok[rid].verdict is Verdict.PASS
    late = _by_id(_ws([3.6], 3.7, {**LONG, "ping_timeout_s": 2.5}))
    assert late[rid].verdict is Verdict.WARN  # SHOULD: a silence beyond the window + 1 s margin
    short = _by_id(_ws([0.9], 1.0, {**LONG, "ping_timeout_s": 2.5}))
    assert short[rid].verdict is Verdict.NOT_EXERCISED
    # without the context key the window is Mastodon's 30 s + grace
    assert _by_id(_ws([0.9], 10.0, LONG))[rid].verdict is Verdict.NOT_EXERCISED


def test_no_pong_is_planned_only_where_pongs_are_withheld() -> None:
    withhold = _ws([], 1.0, {"long": True, "answer_pings": False}).meta
    answer = _ws([], 1.0, LONG).meta
    plain = _ws([], 1.0, {}).meta
    ids = {p.requirement for p in planned_results(withhold)}
    assert "ws.ping.no-pong-terminated" in ids and "ws.ping.server-keepalive" not in ids
    assert "ws.ping.no-pong-terminated" not in {p.requirement for p in planned_results(answer)}
    assert not {"ws.ping.no-pong-terminated", "ws.ping.server-keepalive"} & {
        p.requirement for p in planned_results(plain)
    }


def test_only_narrows_the_planned_results_to_the_probe() -> None:
    meta = _ws([], 1.0, {"send_binary": True, "only": ["ws.close.binary-1003"]}).meta
    assert [p.requirement for p in planned_results(meta)] == ["ws.close.binary-1003"]


def test_server_end_is_expected_only_when_said_so() -> None:
    # a revocation-sounding case name no longer excuses an early end
    assert _stays_open(_sse_eof({"case": "sse-user-revocable"})) is Verdict.FAIL  # MUST-level
    assert _stays_open(_sse_eof({"case": "t", "expect_close": True})) is Verdict.PASS
    kill = {
        "action": "redis-publish",
        "detail": {"channel": "timeline:access_token:1", "message": json.dumps({"event": "kill"})},
        "marker": None,
    }
    assert _stays_open(_sse_eof({"case": "t"}, kill)) is Verdict.PASS
    update = {**kill, "detail": {"channel": "timeline:1", "message": '{"event":"update"}'}}
    assert _stays_open(_sse_eof({"case": "t"}, update)) is Verdict.FAIL  # MUST-level
