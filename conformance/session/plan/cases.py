"""Every case id a run reports on, collected before anything touches the network."""

from __future__ import annotations

from conformance.config import Settings
from conformance.judge import planned_results, planned_run_results
from conformance.matrix.cases import PlannedCase
from conformance.session.plan.connections import Connection, connections
from conformance.session.plan.delivery_cases import delivery_cases, expected_events
from conformance.transcript.model import Meta


def plan_meta(conn: Connection, settings: Settings) -> Meta:
    """The Meta a connection's transcript will carry, with placeholders unresolved."""
    return Meta(
        id=conn.key,
        transport=conn.transport,
        request={"path": conn.path, "params": dict(conn.params)},
        context=conn.context(
            heartbeat_timeout_s=float(settings.heartbeat_timeout_s),
            expect_events=expected_events(conn, settings),
            ping_timeout_s=float(settings.ping_timeout_s),
        ),
    )


def plan_cases(settings: Settings) -> list[PlannedCase]:
    """Every case id a run with these settings reports on: deterministic, no I/O.

    Per-transcript cases come from the judges (``planned_results`` of each connection's meta),
    delivery cases from the stimulus-step table, and the other run-level cases from the
    run-level checks (``planned_run_results`` of every connection's meta).
    """
    out: list[PlannedCase] = []
    seen: set[str] = set()
    conns = connections(settings)
    metas = [plan_meta(conn, settings) for conn in conns]
    for conn, meta in zip(conns, metas, strict=True):
        if conn.role == "revocable":
            continue  # it ends on purpose: only the delivery judge reads it
        for planned in planned_results(meta):
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
                    event=planned.event,
                    needs=conn.needs,
                )
            )
    for case in delivery_cases(settings):
        if case.id not in seen:
            seen.add(case.id)
            out.append(case)
    for planned in planned_run_results(metas):
        if planned.id not in seen:
            seen.add(planned.id)
            out.append(
                PlannedCase(
                    planned.id,
                    planned.requirement,
                    group_of(planned.requirement),
                    planned.transport,
                    planned.stream,
                    planned.event,
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
