"""Delivery requirements that the live faults cannot break in a default run, made to fail here."""

from __future__ import annotations

from test_session_delivery_judge import case, produced, sse

from conformance.judge.delivery import DeliveryLog, StepOutcome, judge_delivery
from conformance.stimulus.base import Produced
from conformance.verdicts import Verdict


def test_notifications_merged_that_never_arrives_fails() -> None:
    nm = case("delivery.notifications-merged.arrives", "sse", "user", "notifications_merged")
    log = DeliveryLog(outcomes={"NM": StepOutcome("NM", Produced("notifications-merged", "m"))})
    missing = {"sse-user": sse("sse-user", "user", [("update", {"id": "5"})])}
    present = {"sse-user": sse("sse-user", "user", [("notifications_merged", "1")])}
    assert judge_delivery(missing, log, [nm])[nm.id].verdict is Verdict.FAIL
    assert judge_delivery(present, log, [nm])[nm.id].verdict is Verdict.PASS


def test_payload_that_differs_from_rest_warns() -> None:
    matches = case("delivery.payload.matches-rest", "sse", "public", None)
    log = DeliveryLog(outcomes={"P": produced("P", "100")})
    differ = {
        "sse-public": sse("sse-public", "public", [("update", {"id": "100", "content": "y"})])
    }
    same = {"sse-public": sse("sse-public", "public", [("update", {"id": "100", "content": "x"})])}
    result = judge_delivery(differ, log, [matches])[matches.id]
    assert result.verdict is Verdict.WARN and "/content" in result.message
    assert judge_delivery(same, log, [matches])[matches.id].verdict is Verdict.PASS
