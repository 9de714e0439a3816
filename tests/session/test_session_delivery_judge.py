"""The delivery judge on hand-built transcripts: arrivals, absences, barriers, multiplexing."""

from __future__ import annotations

import json
from typing import Any

from conformance.judge.delivery import DeliveryLog, StepOutcome, compare_status, judge_delivery
from conformance.session.plan import PlannedCase
from conformance.stimulus.base import Produced
from conformance.transcript.model import Meta, Transcript
from conformance.verdicts import Verdict


def sse(key: str, stream: str, events: list[tuple[str, Any]]) -> Transcript:
    t = Transcript(
        Meta(id=key, transport="sse", request={}, context={"stream": stream, "case": key})
    )
    t.add(0.0, "connect")
    t.add(
        0.01,
        "response-head",
        status=200,
        reason="OK",
        http_version="HTTP/1.1",
        headers=[["Content-Type", "text/event-stream"]],
    )
    for i, (name, payload) in enumerate(events):
        data = payload if isinstance(payload, str) else json.dumps(payload)
        t.add(0.1 + i, "body-chunk", data=f"event: {name}\ndata: {data}\n\n".encode())
    return t


def ws(key: str, frames: list[dict[str, Any]], sent: list[tuple[int, str]] = ()) -> Transcript:
    t = Transcript(Meta(id=key, transport="ws", request={}, context={"case": key}))
    t.add(0.0, "connect")
    t.add(
        0.01,
        "response-head",
        status=101,
        reason="Switching Protocols",
        http_version="HTTP/1.1",
        headers=[],
    )
    sends = dict(sent)
    for i, frame in enumerate(frames):
        if i in sends:
            t.add(0.1 + i, "ws-frame-send", opcode="text", data=sends[i].encode())
        t.add(0.2 + i, "ws-frame-recv", opcode="text", data=json.dumps(frame).encode())
    return t


def produced(step: str, status: str) -> StepOutcome:
    return StepOutcome(
        step,
        Produced(
            scenario=step,
            marker=f"m-{step}",
            ids={"status": status},
            rest_bodies={"status": {"id": status, "content": "x"}},
        ),
    )


def case(req: str, transport: str, stream: str, event: str | None = "update") -> PlannedCase:
    label = f"{transport}-{stream}" + (f"-{event}" if event else "")
    return PlannedCase(f"{req}[{label}]", req, "delivery", transport, stream, event)


def verdict(transcripts: dict[str, Transcript], log: DeliveryLog, c: PlannedCase) -> Verdict:
    return judge_delivery(transcripts, log, [c])[c.id].verdict


ARRIVE = case("delivery.public-status.arrives", "sse", "public")
ABSENT = case("delivery.public-status.excluded", "sse", "public:remote")


def test_must_arrive_present_passes_and_missing_fails() -> None:
    log = DeliveryLog(outcomes={"P": produced("P", "100")})
    good = {"sse-public": sse("sse-public", "public", [("update", {"id": "100"})])}
    bad = {"sse-public": sse("sse-public", "public", [("update", {"id": "999"})])}
    assert verdict(good, log, ARRIVE) is Verdict.PASS
    assert verdict(bad, log, ARRIVE) is Verdict.FAIL


def test_stimulus_not_run_is_not_exercised_and_failed_stimulus_is_error() -> None:
    transcripts = {"sse-public": sse("sse-public", "public", [])}
    skipped = DeliveryLog(outcomes={"P": StepOutcome("P", None, "public posts are off")})
    failed = DeliveryLog(outcomes={"P": StepOutcome("P", None, "HTTP 500", error=True)})
    assert verdict(transcripts, skipped, ARRIVE) is Verdict.NOT_EXERCISED
    assert verdict(transcripts, failed, ARRIVE) is Verdict.ERROR


def test_must_not_arrive_is_judged_at_the_barrier() -> None:
    # P (local, no media) must not reach public:remote; its barrier is the remote status R.
    log = DeliveryLog(outcomes={"P": produced("P", "100"), "R": produced("R", "200")})
    leaked = {
        "sse-public:remote": sse(
            "sse-public:remote",
            "public:remote",
            [("update", {"id": "100"}), ("update", {"id": "200"})],
        )
    }
    clean = {
        "sse-public:remote": sse("sse-public:remote", "public:remote", [("update", {"id": "200"})])
    }
    no_barrier = {"sse-public:remote": sse("sse-public:remote", "public:remote", [])}
    assert verdict(leaked, log, ABSENT) is Verdict.FAIL
    assert verdict(clean, log, ABSENT) is Verdict.PASS
    assert verdict(no_barrier, log, ABSENT) is Verdict.NOT_EXERCISED


def test_delete_is_recognised_by_its_bare_id() -> None:
    c = case("delivery.delete.everywhere", "sse", "public", "delete")
    log = DeliveryLog(
        outcomes={
            "P": produced("P", "100"),
            "X": StepOutcome(
                "X",
                Produced(
                    scenario="status.delete",
                    marker="m",
                    ids={"status": "100"},
                    detail={"target_step": "P"},
                ),
            ),
        }
    )
    got = {
        "sse-public": sse("sse-public", "public", [("update", {"id": "100"}), ("delete", "100")])
    }
    missing = {"sse-public": sse("sse-public", "public", [("update", {"id": "100"})])}
    never_had_it = {"sse-public": sse("sse-public", "public", [])}
    assert verdict(got, log, c) is Verdict.PASS
    assert verdict(missing, log, c) is Verdict.FAIL
    assert verdict(never_had_it, log, c) is Verdict.NOT_EXERCISED


def test_notification_matches_type_and_status() -> None:
    c = case("delivery.favourite.notifies", "sse", "user:notification", "notification")
    log = DeliveryLog(outcomes={"F": produced("F", "300")})
    fav = {"type": "favourite", "status": {"id": "300"}}
    wrong_type = {"type": "reblog", "status": {"id": "300"}}
    ok = {
        "sse-user:notification": sse(
            "sse-user:notification", "user:notification", [("notification", fav)]
        )
    }
    bad = {
        "sse-user:notification": sse(
            "sse-user:notification", "user:notification", [("notification", wrong_type)]
        )
    }
    assert verdict(ok, log, c) is Verdict.PASS
    assert verdict(bad, log, c) is Verdict.FAIL


def test_connection_that_never_opened_is_not_exercised() -> None:
    log = DeliveryLog(outcomes={"P": produced("P", "100")})
    t = sse("sse-public", "public", [])
    t.records[1] = type(t.records[1])(
        t=0.01, kind="response-head", fields={"status": 401, "headers": []}
    )
    assert verdict({"sse-public": t}, log, ARRIVE) is Verdict.NOT_EXERCISED


def test_multiplex_unsubscribe_and_duplicates() -> None:
    p = {"stream": ["public:local"], "event": "update", "payload": json.dumps({"id": "100"})}
    p_tag = {**p, "stream": ["hashtag", "t"]}
    pm_tag = {"stream": ["hashtag", "t"], "event": "update", "payload": json.dumps({"id": "150"})}
    pm_local = {**pm_tag, "stream": ["public:local"]}
    log = DeliveryLog(
        outcomes={"P": produced("P", "100"), "PM": produced("PM", "150")},
        mux_unsubscribed_after="P",
    )
    stops = PlannedCase(
        "s", "ws.multiplex.unsubscribe-stops", "websocket", "ws", "public:local", None
    )
    keeps = PlannedCase(
        "k", "ws.multiplex.unsubscribe-keeps-others", "websocket", "ws", "hashtag", None
    )
    dupes = PlannedCase("d", "ws.multiplex.no-duplicates", "websocket", "ws", "public:local", None)
    good = {"ws-multiplex": ws("ws-multiplex", [p, p_tag, pm_tag])}
    leaky = {"ws-multiplex": ws("ws-multiplex", [p, p_tag, pm_tag, pm_local])}
    doubled = {"ws-multiplex": ws("ws-multiplex", [p, p, p_tag])}
    assert verdict(good, log, stops) is Verdict.PASS
    assert verdict(good, log, keeps) is Verdict.PASS
    assert verdict(leaky, log, stops) is Verdict.FAIL
    assert verdict(good, log, dupes) is Verdict.PASS
    assert verdict(doubled, log, dupes) is Verdict.FAIL


def test_payload_comparison_ignores_viewer_keys_only() -> None:
    rest = {
        "id": "1",
        "content": "a",
        "favourited": False,
        "account": {"id": "9", "statuses_count": 3},
    }
    same = {"id": "1", "content": "a", "filtered": [], "account": {"id": "9", "statuses_count": 4}}
    assert compare_status(same, rest) == []
    assert compare_status({**same, "content": "b"}, rest) == ["/content: 'b' != 'a'"]
    assert compare_status({"id": "1"}, rest)  # missing keys are differences
