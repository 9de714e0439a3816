"""Delivery deadline: how long after a stimulus completed its event arrived, on each connection.

The live session puts a ``stimulus`` record (``action: "step-done"``, ``detail.key``) on every open
connection's own clock when a step's REST call (or Redis publish) returned, so arrival minus that
record is the delivery time measured on one clock, and a replay measures the same. An event due
on a stream must arrive within ``DELIVERY_DEADLINE_S`` x ``--timeout-multiplier``
(``judge.tolerances``; the deadline travels in ``RunContext.timeout_multiplier``).

``delivery.latency.within-deadline`` owns lateness: one case per stream connection, judged over
every event of ours that arrived on it. The delivery checks (``*.arrives``) name it as the cause
of an event that did arrive, but late: "arrived 30.1 s late (deadline 10 s)", never a pass and
never "never arrived". The session stops waiting for an arrival at its own deadline, but keeps
recording through the later steps and the keep-alive hold, so a late event is still in the
transcript for the judge to see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from conformance.judge.delivery_cause import Cause
from conformance.judge.delivery_match import matches, seen_events
from conformance.judge.registry import PlannedResult
from conformance.judge.tolerances import DELIVERY_DEADLINE_S, scaled
from conformance.matrix.delivery_log import DeliveryLog, Seen
from conformance.matrix.steps import STEPS
from conformance.transcript.model import Meta, Transcript
from conformance.verdicts import Verdict

LATENCY = "delivery.latency.within-deadline"
#: the ``stimulus`` record action the session writes when a step completed
STEP_ACTION = "step-done"


def deadline_s(multiplier: float | None) -> float:
    """The delivery deadline of a run with this ``--timeout-multiplier``."""
    return scaled(DELIVERY_DEADLINE_S, multiplier)


def step_marks(transcript: Transcript | None) -> dict[str, float]:
    """Step key -> when the step completed, on this connection's clock (first mark wins)."""
    marks: dict[str, float] = {}
    if transcript is None:
        return marks
    for record in transcript.of_kind("stimulus"):
        detail = record.fields.get("detail")
        if record.fields.get("action") != STEP_ACTION or not isinstance(detail, dict):
            continue
        key = detail.get("key")
        if isinstance(key, str):
            marks.setdefault(key, record.t)
    return marks


def delay_of(step_key: str, hit: Seen, marks: Mapping[str, float]) -> float | None:
    """Seconds from the step's completion to ``hit``'s arrival (None: not measurable)."""
    done = marks.get(step_key)
    if done is None or hit.t is None:
        return None
    return max(0.0, hit.t - done)


def late_cause(
    step_key: str, hit: Seen, marks: Mapping[str, float], deadline: float
) -> Cause | None:
    """The cause an arrival check names for an event that arrived after the deadline."""
    delay = delay_of(step_key, hit, marks)
    if delay is None or delay <= deadline:
        return None
    return Cause(f"it arrived {delay:.1f} s late (deadline {deadline:g} s)", LATENCY, hit.raw)


def _streams(meta: Meta) -> bool:
    context = meta.context
    return (
        meta.transport in ("sse", "ws")
        and context.get("purpose") == "stream"
        and bool(context.get("expect_events"))
        and not context.get("expect_close")
        and context.get("only") is None
    )


def plan_latency(metas: Sequence[Meta]) -> Iterable[PlannedResult]:
    """One lateness case per connection the plan expects events on."""
    return [
        PlannedResult(
            f"{LATENCY}[{meta.id}]",
            LATENCY,
            transport=meta.transport,
            stream=meta.context.get("stream"),
        )
        for meta in metas
        if _streams(meta)
    ]


def connection_of(case_id: str) -> str:
    """``delivery.latency.within-deadline[sse-public]`` -> ``sse-public``."""
    return case_id.partition("[")[2].rstrip("]")


def judge_latency(
    transcript: Transcript | None,
    log: DeliveryLog,
    deadline: float,
    seen: list[Seen] | None = None,
) -> tuple[Verdict | None, str, Any]:
    """Every event of ours on one connection against the deadline (the slowest is named);
    ``seen`` the connection's decoded events when the caller has them already."""
    if transcript is None:
        return Verdict.NOT_EXERCISED, "connection not opened in this run", None
    marks = step_marks(transcript)
    if not marks:
        return Verdict.NOT_EXERCISED, "no stimulus completion recorded on this connection", None
    if seen is None:
        seen = seen_events(transcript)
    measured: list[tuple[float, str, Seen]] = []
    for step in STEPS:
        outcome = log.outcome_for(step.key, transcript.meta.id)  # its --max-connections batch
        if outcome is None or outcome.produced is None or step.match == "end":
            continue
        hit = next((s for s in seen if matches(step, outcome.produced, s)), None)
        if hit is None:
            continue
        delay = delay_of(step.key, hit, marks)
        if delay is not None:
            measured.append((delay, f"{step.event} for {step.scenario} ({step.key})", hit))
    if not measured:
        return Verdict.NOT_EXERCISED, "no event of ours arrived with a recorded stimulus", None
    late = [m for m in measured if m[0] > deadline]
    slowest = max(measured, key=lambda m: m[0])
    if late:
        worst = max(late, key=lambda m: m[0])
        return (
            None,
            f"expected every event within {deadline:g} s of its stimulus; {worst[1]} arrived "
            f"{worst[0]:.1f} s late ({len(late)} of {len(measured)} late)",
            worst[2].raw,
        )
    return (
        Verdict.PASS,
        f"{len(measured)} event(s) within {deadline:g} s, slowest {slowest[0]:.3f} s "
        f"({slowest[1]})",
        None,
    )


__all__ = [
    "LATENCY",
    "STEP_ACTION",
    "connection_of",
    "deadline_s",
    "delay_of",
    "judge_latency",
    "late_cause",
    "plan_latency",
    "step_marks",
]
