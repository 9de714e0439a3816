"""Every case id a run reports on, collected before anything touches the network."""

from __future__ import annotations

from typing import Any

from conformance.session.plan.connections import Connection, connections
from conformance.session.plan.delivery_cases import delivery_cases, expected_events
from conformance.session.plan.planned_case import PlannedCase


def plan_meta(conn: Connection, settings: Any) -> Any:
    """The Meta a connection's transcript will carry, with placeholders unresolved."""
    from conformance.transcript.model import Meta

    return Meta(
        id=conn.key,
        transport=conn.transport,
        request={"path": conn.path, "params": dict(conn.params)},
        context=conn.context(
            heartbeat_timeout_s=float(settings.heartbeat_timeout_s),
            expect_events=expected_events(conn, settings),
            ping_timeout_s=float(getattr(settings, "ping_timeout_s", 35.0)),
        ),
    )


def _judge_planned(meta: Any) -> list[Any]:
    try:
        from conformance.judge import planned_results
    except ImportError:  # the judges are not installed: only this package's own cases
        return []
    return list(planned_results(meta))


def plan_cases(settings: Any) -> list[PlannedCase]:
    """Every case id a run with these settings reports on: deterministic, no I/O."""
    out: list[PlannedCase] = []
    seen: set[str] = set()
    for conn in connections(settings):
        if conn.role == "revocable":
            continue  # it ends on purpose: only the delivery judge reads it
        for planned in _judge_planned(plan_meta(conn, settings)):
            if planned.id in seen:
                continue  # the same check on two transcripts: one case, worst verdict wins
            seen.add(planned.id)
            out.append(
                PlannedCase(
                    id=planned.id,
                    requirement=planned.requirement,
                    group=group_of(planned.requirement),
                    transport=conn.transport,
                    stream=conn.stream,
                    event=getattr(planned, "event", None),
                    needs=conn.needs,
                )
            )
    for case in delivery_cases(settings):
        if case.id not in seen:
            seen.add(case.id)
            out.append(case)
    out.append(
        PlannedCase(
            "discovery.streaming-url.agree[http-instance]",
            "discovery.streaming-url.agree",
            "discovery",
            "http",
            None,
            None,
        )
    )
    if getattr(settings, "read_only", False):
        out.append(
            PlannedCase(
                "delivery.read-only.observed[sse-public]",
                "delivery.read-only.observed",
                "delivery",
                "sse",
                "public",
                None,
                frozenset({"read-only"}),
            )
        )
    return out


#: Requirement id prefix -> the case module group (``conformance/cases/test_<group>.py``).
_GROUPS: tuple[tuple[str, str], ...] = (
    ("sse.framing.", "sse_framing"),
    ("sse.heartbeat.", "heartbeat"),
    ("http.", "http"),
    ("errors.", "errors"),
    ("ws.", "websocket"),
    ("events.", "payloads"),
    ("payload.", "payloads"),
    ("delivery.", "delivery"),
)


def group_of(requirement: str) -> str:
    for prefix, group in _GROUPS:
        if requirement.startswith(prefix):
            return group
    return requirement.split(".", 1)[0]
