"""Delivery failures name their cause: what arrived for the object's id, and whose check owns it."""

from __future__ import annotations

from test_session_delivery_judge import ARRIVE, produced, sse

from conformance.judge.delivery import DeliveryLog, judge_delivery
from conformance.session.plan import PlannedCase
from conformance.transcript.model import Transcript
from conformance.verdicts import Verdict

LOG = DeliveryLog(outcomes={"P": produced("P", "100200")})


def _judge(transcript: Transcript) -> tuple[Verdict, str, str | None]:
    result = judge_delivery({"sse-public": transcript}, LOG, [ARRIVE])[ARRIVE.id]
    return result.verdict, result.message, result.cause


def test_renamed_event_is_the_cause() -> None:
    verdict, message, cause = _judge(
        sse("sse-public", "public", [("status_update", {"id": "100200"})])
    )
    assert verdict is Verdict.FAIL
    assert "arrived as event 'status_update'" in message and "never arrived" not in message
    assert cause == "events.name.known"


def test_payload_not_json_is_the_cause() -> None:
    verdict, message, cause = _judge(
        sse("sse-public", "public", [("update", "{'id': '100200', 'content': 'x'}")])
    )
    assert verdict is Verdict.FAIL and "not JSON" in message
    assert cause == "events.payload.json"


def test_wrong_shape_is_the_cause() -> None:
    verdict, message, cause = _judge(sse("sse-public", "public", [("update", [{"id": "100200"}])]))
    assert verdict is Verdict.FAIL and "wrong shape" in message
    assert cause == "payload.schema.valid"


def test_a_cut_stream_is_the_cause() -> None:
    transcript = sse("sse-public", "public", [])
    transcript.add(3.2, "end", how="incomplete", detail="peer closed")
    verdict, message, cause = _judge(transcript)
    assert verdict is Verdict.FAIL and "cut at t=3.2 s" in message
    assert cause == "http.sse.not-cut"


def test_never_arrived_only_when_nothing_carries_the_id() -> None:
    verdict, message, cause = _judge(sse("sse-public", "public", [("update", {"id": "999"})]))
    assert verdict is Verdict.FAIL and "never arrived" in message
    assert cause is None


REVOKE = PlannedCase(
    "delivery.token-revoke.ends-stream[sse-user]",
    "delivery.token-revoke.ends-stream",
    "delivery",
    "sse",
    "user",
    None,
)


def _revoked(end_t: float, revoke_t: float | None) -> tuple[Verdict, str]:
    tr = sse("sse-user-revocable", "user", [])
    if revoke_t is not None:
        tr.add(revoke_t, "stimulus", action="token.revoke", detail={}, marker=None)
    tr.add(end_t, "end", how="eof", detail="")
    tr.records.sort(key=lambda r: r.t)
    log = DeliveryLog(outcomes={"TR": produced("TR", "1")})
    result = judge_delivery({"sse-user-revocable": tr}, log, [REVOKE])[REVOKE.id]
    return result.verdict, result.message


def test_a_stream_that_ended_before_the_revocation_fails() -> None:
    verdict, message = _revoked(end_t=1.0, revoke_t=2.0)
    assert verdict is Verdict.WARN or verdict is Verdict.FAIL
    assert "before it" in message


def test_a_stream_that_ended_after_the_revocation_passes() -> None:
    assert _revoked(end_t=2.1, revoke_t=2.0)[0] is Verdict.PASS
    assert _revoked(end_t=2.1, revoke_t=None)[0] is Verdict.PASS  # recordings without the mark
