"""Timing margins: every timing check has one named tolerance (``judge/tolerances.py``; the
heartbeat's in ``judge/heartbeat.py``) that scales with --timeout-multiplier, recorded in the
transcript context or the RunContext. Each check: just inside passes, just outside fails/warns."""

from __future__ import annotations

import json

import transcript_builders as b

from conformance.judge import judge_transcript, planned_run_results
from conformance.judge.delivery import judge_delivery
from conformance.judge.delivery_latency import LATENCY, STEP_ACTION
from conformance.judge.pipeline import judge_run
from conformance.judge.tolerances import (
    DELIVERY_DEADLINE_S,
    FIRST_BYTE_TOLERANCE_S,
    PONG_WINDOW_S,
    REVOKE_END_S,
    SERVER_PING_TOLERANCE_S,
)
from conformance.matrix.cases import PlannedCase
from conformance.matrix.delivery_log import DeliveryLog, StepOutcome
from conformance.matrix.run_context import RunContext
from conformance.matrix.stimulus_log import build_stimulus_log, saved_run
from conformance.stimulus.base import Produced
from conformance.transcript.model import Meta, Transcript
from conformance.verdicts import Result, Verdict

TIMEOUT = {"heartbeat_timeout_s": 4.0}


def _heartbeat(gap: float, tolerance: float | None) -> Verdict:
    context = dict(TIMEOUT)
    if tolerance is not None:
        context["heartbeat_tolerance_s"] = tolerance
    tr = b.sse([(0.02, b":)\n"), (0.02 + gap, b":thump\n\n")], end_t=0.02 + gap, context=context)
    (result,) = [r for r in judge_transcript(tr) if r.requirement == "sse.heartbeat.within-timeout"]
    return result.verdict


def test_a_silence_just_over_the_timeout_is_within_the_margin() -> None:
    assert _heartbeat(4.1, None) is Verdict.PASS  # the proxy-split case of issue 10
    assert _heartbeat(4.9, 1.0) is Verdict.PASS
    assert _heartbeat(5.2, 1.0) is Verdict.FAIL


def test_the_margin_scales_with_the_timeout_multiplier() -> None:
    assert _heartbeat(5.2, 3.0) is Verdict.PASS  # --timeout-multiplier 3
    assert _heartbeat(4.5, 0.3) is Verdict.FAIL  # --timeout-multiplier 0.3


def test_the_opening_context_carries_the_scaled_margin() -> None:
    from conformance.judge.heartbeat import HEARTBEAT_TOLERANCE_S

    assert HEARTBEAT_TOLERANCE_S > 0


# -- every other timing check: one named tolerance x --timeout-multiplier (judge/tolerances.py) --


def _one(tr: object, requirement: str, *, long: bool = False) -> Verdict:
    results = [r for r in judge_transcript(tr, long=long) if r.requirement == requirement]  # type: ignore[arg-type]
    assert len(results) == 1, results
    return results[0].verdict


def _first_byte(delay: float, multiplier: float | None) -> Verdict:
    context: dict[str, float] = {"heartbeat_timeout_s": 4.0}
    if multiplier is not None:
        context["timeout_multiplier"] = multiplier
    tr = b.sse([(0.01 + delay, b":)\n")], end_t=0.01 + delay + 0.1, context=context)
    return _one(tr, "http.sse.first-byte-prompt")


def test_first_byte_margin_is_named_and_scaled() -> None:
    margin = FIRST_BYTE_TOLERANCE_S
    assert _first_byte(4.0 + margin - 0.1, None) is Verdict.PASS
    assert _first_byte(4.0 + margin + 0.1, None) is Verdict.FAIL
    assert _first_byte(4.0 + 3 * margin - 0.1, 3.0) is Verdict.PASS
    assert _first_byte(4.0 + 3 * margin + 0.1, 3.0) is Verdict.FAIL


def _pong(after: float, multiplier: float | None) -> Verdict:
    context = {} if multiplier is None else {"timeout_multiplier": multiplier}
    tr = b.ws([(0.1, "send", "ping", "msc"), (0.1 + after, "recv", "pong", "msc")], context=context)
    return _one(tr, "ws.ping.pong")


def test_pong_window_is_named_and_scaled() -> None:
    assert _pong(PONG_WINDOW_S - 0.1, None) is Verdict.PASS
    assert _pong(PONG_WINDOW_S + 0.1, None) is Verdict.FAIL
    assert _pong(0.3 * PONG_WINDOW_S - 0.1, 0.3) is Verdict.PASS
    assert _pong(0.3 * PONG_WINDOW_S + 0.1, 0.3) is Verdict.FAIL


def _server_ping(gap: float, multiplier: float | None) -> Verdict:
    context: dict[str, object] = {"long": True, "ping_timeout_s": 10.0, "answer_pings": True}
    if multiplier is not None:
        context["timeout_multiplier"] = multiplier
    tr = b.ws(
        [(0.01 + gap, "recv", "ping", ""), (0.01 + gap + 5.0, "recv", "ping", "")],
        context=context,
        end_t=0.01 + gap + 5.0,
    )
    return _one(tr, "ws.ping.server-keepalive", long=True)


def test_server_ping_margin_is_named_and_scaled() -> None:
    margin = SERVER_PING_TOLERANCE_S
    assert _server_ping(10.0 + margin - 0.1, None) is Verdict.PASS
    assert _server_ping(10.0 + margin + 0.1, None) is Verdict.WARN
    assert _server_ping(10.0 + 2 * margin - 0.1, 2.0) is Verdict.PASS
    assert _server_ping(10.0 + 2 * margin + 0.1, 2.0) is Verdict.WARN


# -- run-level timing: the revocation window and the delivery deadline (RunContext multiplier) --

REVOKE = PlannedCase(
    "delivery.token-revoke.ends-stream[sse-user]",
    "delivery.token-revoke.ends-stream",
    "delivery",
    "sse",
    "user",
    None,
)
ARRIVE = PlannedCase(
    "delivery.public-status.arrives[sse-public-update]",
    "delivery.public-status.arrives",
    "delivery",
    "sse",
    "public",
    "update",
)
LATE = PlannedCase(f"{LATENCY}[sse-public]", LATENCY, "delivery", "sse", "public", None)


def _produced(step: str, status: str) -> StepOutcome:
    return StepOutcome(
        step, Produced(scenario=step, marker=f"m-{step}", ids={"status": status}, rest_bodies={})
    )


def _stream(key: str, stream: str) -> Transcript:
    tr = Transcript(Meta(id=key, transport="sse", request={}, context={"stream": stream}))
    tr.add(0.0, "connect")
    tr.add(0.01, "response-head", status=200, reason="OK", http_version="HTTP/1.1", headers=[])
    return tr


def _revoked(after: float, multiplier: float) -> Verdict:
    tr = _stream("sse-user-revocable", "user")
    tr.add(1.0, "stimulus", action="token.revoke", detail={}, marker=None)
    tr.add(1.0 + after, "end", how="eof", detail="")
    log = DeliveryLog(outcomes={"TR": _produced("TR", "1")})
    transcripts = {"sse-user-revocable": tr}
    return judge_delivery(transcripts, log, [REVOKE], multiplier=multiplier)[REVOKE.id].verdict


def test_revocation_end_window_is_named_and_scaled() -> None:
    assert _revoked(REVOKE_END_S - 0.1, 1.0) is Verdict.PASS
    assert _revoked(REVOKE_END_S + 0.1, 1.0) is Verdict.WARN
    assert _revoked(2 * REVOKE_END_S - 0.1, 2.0) is Verdict.PASS
    assert _revoked(2 * REVOKE_END_S + 0.1, 2.0) is Verdict.WARN


def _late(delay: float) -> Transcript:
    tr = _stream("sse-public", "public")
    tr.add(1.0, "stimulus", action=STEP_ACTION, detail={"key": "P"}, marker=None)
    data = json.dumps({"id": "100", "content": "x"})
    tr.add(1.0 + delay, "body-chunk", data=f"event: update\ndata: {data}\n\n".encode())
    return tr


def _delivery(delay: float, multiplier: float = 1.0) -> dict[str, Result]:
    log = DeliveryLog(outcomes={"P": _produced("P", "100")})
    transcripts = {"sse-public": _late(delay)}
    return judge_delivery(transcripts, log, [ARRIVE, LATE], multiplier=multiplier)


def test_delivery_deadline_is_named_and_scaled() -> None:
    assert _delivery(DELIVERY_DEADLINE_S - 0.1)[LATE.id].verdict is Verdict.PASS
    assert _delivery(DELIVERY_DEADLINE_S + 0.1)[LATE.id].verdict is Verdict.WARN
    assert _delivery(0.3 * DELIVERY_DEADLINE_S - 0.1, 0.3)[LATE.id].verdict is Verdict.PASS
    assert _delivery(0.3 * DELIVERY_DEADLINE_S + 0.1, 0.3)[LATE.id].verdict is Verdict.WARN


def test_a_late_arrival_names_its_cause_instead_of_pass_or_never_arrived() -> None:
    on_time = _delivery(DELIVERY_DEADLINE_S - 0.1)[ARRIVE.id]
    assert on_time.verdict is Verdict.PASS
    late = _delivery(30.1)[ARRIVE.id]
    assert late.verdict is Verdict.WARN  # the lateness requirement's level, not a MUST fail
    assert f"arrived 30.1 s late (deadline {DELIVERY_DEADLINE_S:g} s)" in late.message
    assert "never arrived" not in late.message
    assert late.cause == LATENCY
    assert _delivery(30.1)[LATE.id].message.count("late") >= 1


def test_the_pipeline_judges_with_the_run_context_multiplier_and_replay_keeps_it() -> None:
    delay = DELIVERY_DEADLINE_S + 1.0  # late at x1, on time at x2
    log = DeliveryLog(outcomes={"P": _produced("P", "100")})
    plan = (ARRIVE, LATE)
    for multiplier, expected in ((1.0, Verdict.WARN), (2.0, Verdict.PASS)):
        context = RunContext(plan=plan, timeout_multiplier=multiplier)
        saved = saved_run(build_stimulus_log(log, plan, context=context))
        assert saved.context.timeout_multiplier == multiplier
        for ctx in (context, saved.context):
            results = {r.id: r for r in judge_run({"sse-public": _late(delay)}, saved.log, ctx)}
            assert results[LATE.id].verdict is expected
            assert results[ARRIVE.id].verdict is expected


def test_lateness_is_planned_once_per_stream_connection() -> None:
    stream = Meta(
        id="sse-public",
        transport="sse",
        request={},
        context={"purpose": "stream", "stream": "public", "expect_events": ["update"]},
    )
    revocable = Meta(
        id="sse-user-revocable",
        transport="sse",
        request={},
        context={
            "purpose": "stream",
            "stream": "user",
            "expect_events": ["update"],
            "expect_close": True,
        },
    )
    planned = [p for p in planned_run_results([stream, revocable]) if p.requirement == LATENCY]
    assert [p.id for p in planned] == [LATE.id]
