"""Delivery judging: across all of a run's transcripts, did each stimulus reach exactly the
streams it must?

Unlike the per-transcript checks this needs the stimulus log (what was created, with which ids)
and every stream at once, so it is a *run-level* check (``@run_check``, see
``judge.registry``). It is still pure: the transcripts and the log in, Results out, so a saved
run is re-judged by ``judge.pipeline.judge_run`` exactly as live.

Absence is never judged by waiting: a must-not on stream X is judged only once a *later*
stimulus's event has arrived on X (the barrier, ``plan.barrier_for``). Events are recognised by
the ids the driver reported, so other traffic on a live instance is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import conformance.judge.delivery_latency as latency
from conformance.judge.context import JudgeContext
from conformance.judge.delivery_cause import Cause, cause_of_absence
from conformance.judge.delivery_match import compare_status, leaked, matches, seen_events
from conformance.judge.delivery_revoke import revocation_end
from conformance.judge.registry import RunJudgeContext, evidence_of, run_check
from conformance.judge.tolerances import REVOKE_END_S, scaled
from conformance.matrix.cases import PlannedCase
from conformance.matrix.delivery_log import DeliveryLog, Seen, StepOutcome
from conformance.matrix.keys import (
    HASHTAG_CASE_KEYS,
    MUX_SUBSCRIPTIONS,
    MUX_UNSUBSCRIBED,
    OTHER_TAG_KEY,
)
from conformance.matrix.steps import EXTRA_ARRIVALS, ONCE, STEP_BY_KEY, STEPS, Step, barrier_for
from conformance.requirements import level_of
from conformance.stimulus.base import Produced
from conformance.transcript.model import Transcript
from conformance.verdicts import (
    Result,
    Verdict,
    aggregate,
    level_verdict,
    planned_result,
    verdict_for_violation,
)

MUX_KEY = "ws-multiplex"


class DeliveryJudge:
    """Judges the delivery and multiplexing cases of one run."""

    def __init__(
        self, transcripts: Mapping[str, Transcript], log: DeliveryLog, multiplier: float = 1.0
    ) -> None:
        self.transcripts = transcripts
        self.log = log
        #: the run's --timeout-multiplier: scales the delivery deadline and the revocation window
        self.multiplier = multiplier
        self.deadline = latency.deadline_s(multiplier)
        self._seen: dict[str, list[Seen]] = {}
        self._marks: dict[str, dict[str, float]] = {}
        #: (step key, connection key) -> the cause found for a missing event
        self.causes: dict[tuple[str, str], Cause] = {}

    # -- lookups ---------------------------------------------------------------------------

    def seen(self, key: str) -> list[Seen]:
        if key not in self._seen:
            t = self.transcripts.get(key)
            self._seen[key] = seen_events(t) if t is not None else []
        return self._seen[key]

    def marks(self, key: str) -> dict[str, float]:
        """Step key -> completion time on this connection's clock (``step-done`` records)."""
        if key not in self._marks:
            self._marks[key] = latency.step_marks(self.transcripts.get(key))
        return self._marks[key]

    def open_problem(self, key: str) -> str | None:
        """Why a connection cannot be judged for delivery (None if it was open)."""
        t = self.transcripts.get(key)
        if t is None:
            return f"connection {key} was not opened in this run"
        head = t.head
        status = head.fields.get("status") if head is not None else None
        ok = 101 if t.meta.transport == "ws" else 200
        if status != ok:
            return f"connection {key} was not open (status {status})"
        if t.meta.transport == "ws" and (broken := JudgeContext(t).ws_protocol_problems):
            return f"connection {key} broke RFC 6455 ({broken[0]})"
        return None

    def _cannot_judge(
        self, outcome: StepOutcome, key: str
    ) -> tuple[Verdict | None, str, Any] | None:
        """The verdict to give at once when the stimulus did not run or the connection was not
        open; None when the step can be judged on that connection."""
        if outcome.produced is None:
            return _not_run(outcome)
        problem = self.open_problem(key)
        return (Verdict.NOT_EXERCISED, problem, None) if problem else None

    def outcome(self, step_key: str, key: str | None = None) -> StepOutcome:
        """The step's outcome as connection ``key`` saw it (``--max-connections`` batches each
        stimulate their own streams: ``DeliveryLog.outcome_for``)."""
        outcome = self.log.outcome_for(step_key, key)
        if outcome is None:
            return StepOutcome(step_key, None, self.log.not_run_reason or "step was not run")
        return outcome

    def found(self, key: str, step: Step, produced: Produced) -> list[Seen]:
        return [s for s in self.seen(key) if matches(step, produced, s)]

    def target_step(
        self, step: Step, key: str | None = None
    ) -> tuple[Step | None, StepOutcome | None]:
        outcome = self.outcome(step.key, key)
        if outcome.produced is None:
            return None, None
        target_key = outcome.produced.detail.get("target_step")
        if not target_key:
            return None, None
        return STEP_BY_KEY[target_key], self.outcome(target_key, key)

    # -- per-case judgements -----------------------------------------------------------------

    def arrive(self, step: Step, key: str) -> tuple[Verdict | None, str, Any]:
        outcome = self.outcome(step.key, key)
        if (early := self._cannot_judge(outcome, key)) is not None:
            return early
        if step.arrive_from:
            target, target_outcome = self.target_step(step, key)
            if target is None or target_outcome is None or target_outcome.produced is None:
                return Verdict.NOT_EXERCISED, "the status it acts on was not created", None
            if not self.found(key, target, target_outcome.produced):
                return (
                    Verdict.NOT_EXERCISED,
                    f"the status ({target.key}) never arrived on {key}, so neither need "
                    f"its {step.event}",
                    None,
                )
        hits = self.found(key, step, outcome.produced)
        label = f"{step.scenario} ({outcome.produced.marker})"
        if hits:
            late = latency.late_cause(step.key, hits[0], self.marks(key), self.deadline)
            if late is not None:  # arrived, but late: the latency check owns it (a SHOULD)
                self.causes[(step.key, key)] = late
                return (
                    verdict_for_violation(level_of(latency.LATENCY)),
                    f"{step.event} for {label} on {key}: {late.message} (see {latency.LATENCY})",
                    late.raw,
                )
            return Verdict.PASS, f"{step.event} for {label} arrived on {key}", hits[0].raw
        cause = cause_of_absence(
            step.event, outcome.produced, self.seen(key), self.transcripts.get(key)
        )
        if cause is not None:
            owner = f" (see {cause.requirement})" if cause.requirement else ""
            self.causes[(step.key, key)] = cause
            return (
                None,
                f"expected {step.event} for {label} on {key}; {cause.message}{owner}",
                cause.raw,
            )
        return None, f"expected {step.event} for {label} on {key}; it never arrived", None

    def absent(self, step: Step, key: str, target: str) -> tuple[Verdict | None, str, Any]:
        outcome = self.outcome(step.key, key)
        if (early := self._cannot_judge(outcome, key)) is not None:
            return early
        hits = [s for s in self.seen(key) if leaked(step, outcome.produced, s)]
        label = f"{step.scenario} ({outcome.produced.marker})"
        if hits:
            return (
                None,
                f"{label} must not be delivered on {key}; it arrived as {hits[0].event}",
                hits[0].raw,
            )
        barrier_key = barrier_for(step.key, target)
        if barrier_key is None:
            return Verdict.NOT_EXERCISED, "no later stimulus reaches this stream (no barrier)", None
        barrier = STEP_BY_KEY[barrier_key]
        b_outcome = self.outcome(barrier_key, key)
        if b_outcome.produced is None:
            return (
                Verdict.NOT_EXERCISED,
                f"barrier {barrier.scenario} did not run: {b_outcome.reason}",
                None,
            )
        if not self.found(key, barrier, b_outcome.produced):
            return (
                Verdict.NOT_EXERCISED,
                f"barrier {barrier.scenario} never arrived on {key}, so absence is unproven",
                None,
            )
        return (Verdict.PASS, f"{label} absent on {key} up to barrier {barrier.scenario}", None)

    def payload_matches(self, key: str) -> tuple[Verdict | None, str, Any]:
        stream = (
            self.transcripts[key].meta.context.get("stream") if key in self.transcripts else None
        )
        public = stream is not None and stream.startswith(("public", "hashtag"))
        for step_key in ("P",) if public else ("P", "PR"):
            outcome = self.outcome(step_key, key)
            if outcome.produced is None:
                continue
            problem = self.open_problem(key)
            if problem:
                return Verdict.NOT_EXERCISED, problem, None
            step = STEP_BY_KEY[step_key]
            hits = self.found(key, step, outcome.produced)
            if not hits:
                return Verdict.NOT_EXERCISED, f"{step.scenario} did not arrive on {key}", None
            bodies = outcome.produced.rest_bodies
            rest = bodies.get("status_as_a") or bodies.get("status")
            if not isinstance(rest, dict):
                return Verdict.NOT_EXERCISED, "no REST representation to compare with", None
            diffs = compare_status(hits[0].payload, rest)
            if diffs:
                return (
                    None,
                    f"payload differs from GET /api/v1/statuses/:id: {'; '.join(diffs[:5])}",
                    hits[0].raw,
                )
            return Verdict.PASS, "payload equals the REST representation", None
        return _not_run(self.outcome("P", key))

    # -- multiplexing -------------------------------------------------------------------------

    def _mux_frames(self, stream: str) -> list[Seen]:
        return [s for s in self.seen(MUX_KEY) if s.stream and s.stream[0] == stream]

    def _mux_steps(self, stream: str, *, after_unsubscribe: bool) -> list[Step]:
        cut = self.log.mux_unsubscribed_after
        keys = [s.key for s in STEPS]
        cut_index = keys.index(cut) if cut in keys else len(keys)
        out = []
        for i, step in enumerate(STEPS):
            if step.event != "update" or stream not in step.arrive or step.arrive_from:
                continue
            later = i > cut_index
            if later == after_unsubscribe:
                out.append(step)
        return out

    def mux_delivers(self, stream: str) -> tuple[Verdict | None, str, Any]:
        problem = self.open_problem("ws-multiplex")
        if problem:
            return Verdict.NOT_EXERCISED, problem, None
        unsubscribed = stream == MUX_UNSUBSCRIBED
        produced = [
            (s, self.outcome(s.key, MUX_KEY).produced)
            for s in self._mux_steps(stream, after_unsubscribe=False)
            + ([] if unsubscribed else self._mux_steps(stream, after_unsubscribe=True))
        ]
        produced = [(s, p) for s, p in produced if p is not None]
        if not produced:
            return Verdict.NOT_EXERCISED, f"no stimulus for {stream} ran", None
        frames = self._mux_frames(stream)
        for step, p in produced:
            if any(matches(step, p, f) for f in frames):
                return Verdict.PASS, f"{step.scenario} arrived tagged [{stream!r}]", None
        return None, f"none of {[s.key for s, _ in produced]} arrived tagged {stream!r}", None

    def mux_no_duplicates(self, stream: str) -> tuple[Verdict | None, str, Any]:
        problem = self.open_problem("ws-multiplex")
        if problem:
            return Verdict.NOT_EXERCISED, problem, None
        frames = self._mux_frames(stream)
        judged = 0
        for step in STEPS:
            p = self.outcome(step.key, MUX_KEY).produced
            if p is None or step.match == "end":
                continue
            hits = [f for f in frames if matches(step, p, f)]
            if len(hits) > 1:
                return (
                    None,
                    f"{step.scenario} delivered {len(hits)} times for one subscription to {stream}",
                    hits[1].raw,
                )
            judged += len(hits)
        if not judged:
            return Verdict.NOT_EXERCISED, f"nothing of ours arrived for {stream}", None
        return Verdict.PASS, f"{judged} event(s) on {stream}, each once", None

    def _after_unsubscribe(self, stream: str) -> tuple[list[tuple[Step, Produced]], str | None]:
        """The produced steps aimed at ``stream`` after the multiplexed unsubscribe, or why the
        multiplex socket cannot be judged."""
        if self.log.mux_unsubscribed_after is None:
            return [], "the unsubscribe was not sent"
        problem = self.open_problem("ws-multiplex")
        if problem:
            return [], problem
        steps = self._mux_steps(stream, after_unsubscribe=True)
        produced = [(s, self.outcome(s.key, MUX_KEY).produced) for s in steps]
        return [(s, p) for s, p in produced if p is not None], None

    def mux_unsubscribe_stops(self) -> tuple[Verdict | None, str, Any]:
        after, problem = self._after_unsubscribe(MUX_UNSUBSCRIBED)
        if problem:
            return Verdict.NOT_EXERCISED, problem, None
        leaked = self._mux_frames(MUX_UNSUBSCRIBED)
        for step, p in after:
            hits = [f for f in leaked if matches(step, p, f)]
            if hits:
                return (
                    None,
                    f"{step.scenario} arrived for {MUX_UNSUBSCRIBED} after unsubscribing",
                    hits[0].raw,
                )
        others = [
            f for f in self.seen("ws-multiplex") if f.stream and f.stream[0] != MUX_UNSUBSCRIBED
        ]
        for step, p in after:
            if any(matches(step, p, f) for f in others):
                return (
                    Verdict.PASS,
                    f"{step.scenario} arrived on another subscription but not "
                    f"on {MUX_UNSUBSCRIBED}",
                    None,
                )
        return Verdict.NOT_EXERCISED, "no barrier arrived after the unsubscribe", None

    def mux_keeps_others(self, stream: str) -> tuple[Verdict | None, str, Any]:
        after, problem = self._after_unsubscribe(stream)
        if problem:
            return Verdict.NOT_EXERCISED, problem, None
        if not after:
            return Verdict.NOT_EXERCISED, f"no stimulus for {stream} after the unsubscribe", None
        frames = self._mux_frames(stream)
        for step, p in after:
            if any(matches(step, p, f) for f in frames):
                return Verdict.PASS, f"{step.scenario} still arrived on {stream}", None
        return None, f"after unsubscribing {MUX_UNSUBSCRIBED}, {stream} delivered nothing", None

    def once(self, step: Step, key: str) -> tuple[Verdict | None, str, Any]:
        """Exactly one event for the step on one subscription (arrival is judged elsewhere)."""
        outcome = self.outcome(step.key, key)
        if (early := self._cannot_judge(outcome, key)) is not None:
            return early
        hits = self.found(key, step, outcome.produced)
        label = f"{step.scenario} ({outcome.produced.marker})"
        if not hits:
            return Verdict.NOT_EXERCISED, f"{step.event} for {label} did not arrive on {key}", None
        if len(hits) > 1:
            return (
                None,
                f"expected exactly one {step.event} for {label} on {key}; observed {len(hits)}",
                hits[1].raw,
            )
        return Verdict.PASS, f"exactly one {step.event} for {label} on {key}", None

    def token_revoke(self, key: str) -> tuple[Verdict | None, str, Any]:
        outcome = self.outcome("TR", key)
        if outcome.produced is None:
            return _not_run(outcome)
        t = self.transcripts.get(key)
        problem = self.open_problem(key)
        if t is None or problem:
            return Verdict.NOT_EXERCISED, problem or "not opened", None
        return revocation_end(t, scaled(REVOKE_END_S, self.multiplier))


def _not_run(outcome: StepOutcome) -> tuple[Verdict | None, str, Any]:
    if outcome.error:
        return Verdict.ERROR, f"stimulus failed: {outcome.reason}", None
    return Verdict.NOT_EXERCISED, outcome.reason or "stimulus not run", None


def _steps_for_case(case: PlannedCase) -> Iterable[tuple[Step, str, str]]:
    """(step, connection key, kind) pairs judged for one planned delivery case."""
    req, transport, stream = case.requirement, case.transport, case.stream
    for step in STEPS:
        if req == "delivery.other-tag.arrives" and step.key in EXTRA_ARRIVALS:
            yield step, OTHER_TAG_KEY, "arrive"
        elif req == "delivery.other-tag.excluded" and OTHER_TAG_KEY in step.extra_absent_keys:
            yield step, OTHER_TAG_KEY, "absent-extra"
        elif step.requirement == req and stream in step.arrive:
            yield step, f"{transport}-{stream}", "arrive"
        elif step.absent_requirement == req and stream in step.absent:
            yield step, f"{transport}-{stream}", "absent"


def is_delivery(requirement: str) -> bool:
    """The requirements the delivery judge owns."""
    return requirement.startswith(("delivery.", "ws.multiplex."))


@run_check("delivery", owns=is_delivery, plan=latency.plan_latency)
def delivery_check(rcx: RunJudgeContext) -> Iterable[Result]:
    """The run-level registration: every delivery/multiplex case of the run (the lateness
    cases are planned here, one per stream connection; the others come from the step table)."""
    multiplier = rcx.context.timeout_multiplier if rcx.context is not None else 1.0
    return judge_delivery(rcx.transcripts, rcx.log, rcx.cases, multiplier=multiplier).values()


def judge_delivery(
    transcripts: Mapping[str, Transcript],
    log: DeliveryLog,
    cases: Iterable[PlannedCase],
    *,
    multiplier: float = 1.0,
) -> dict[str, Result]:
    """One Result per delivery/multiplex planned case in ``cases`` (others are ignored);
    ``multiplier`` is the run's --timeout-multiplier (``judge.tolerances``)."""
    judge = DeliveryJudge(transcripts, log, multiplier)
    out: dict[str, Result] = {}
    mux_streams = {dict(s)["stream"] for s in MUX_SUBSCRIPTIONS}
    for case in cases:
        req = case.requirement
        if not is_delivery(req):
            continue
        observations: list[tuple[Verdict | None, str, Any]] = []
        key = f"{case.transport}-{case.stream}"
        if req == "delivery.payload.matches-rest":
            observations.append(judge.payload_matches(key))
        elif req == latency.LATENCY:
            conn_key = latency.connection_of(case.id)
            observations.append(
                latency.judge_latency(
                    transcripts.get(conn_key), log, judge.deadline, judge.seen(conn_key)
                )
            )
            key = conn_key
        elif req in ONCE.values():
            step_key = next(k for k, r in ONCE.items() if r == req)
            observations.append(judge.once(STEP_BY_KEY[step_key], key))
        elif req == "delivery.hashtag.case-insensitive":
            conn_key = HASHTAG_CASE_KEYS.get(str(case.transport), "")
            observations.append(judge.arrive(STEP_BY_KEY["P"], conn_key))
        elif req == "delivery.token-revoke.ends-stream":
            observations.append(judge.token_revoke(f"{case.transport}-user-revocable"))
        elif req == "delivery.read-only.observed":
            n = len(judge.seen("sse-public"))
            observations.append((Verdict.INFO, f"{n} event(s) observed on public", None))
        elif req == "ws.multiplex.delivers-each" and case.stream in mux_streams:
            observations.append(judge.mux_delivers(str(case.stream)))
        elif req == "ws.multiplex.no-duplicates" and case.stream in mux_streams:
            observations.append(judge.mux_no_duplicates(str(case.stream)))
        elif req == "ws.multiplex.unsubscribe-stops":
            observations.append(judge.mux_unsubscribe_stops())
        elif req == "ws.multiplex.unsubscribe-keeps-others":
            observations.append(judge.mux_keeps_others(str(case.stream)))
        else:
            for step, conn_key, kind in _steps_for_case(case):
                if kind == "arrive":
                    observations.append(judge.arrive(step, conn_key))
                elif kind == "absent":
                    observations.append(judge.absent(step, conn_key, str(case.stream)))
                else:
                    observations.append(judge.absent(step, conn_key, conn_key))
        causes = [c.requirement for c in judge.causes.values() if c.requirement]
        judge.causes.clear()
        out[case.id] = _result(
            case, observations, transcripts, cause=causes[0] if causes else None, key=key
        )
    return out


def _result(
    case: PlannedCase,
    observations: list[tuple[Verdict | None, str, Any]],
    transcripts: Mapping[str, Transcript],
    *,
    cause: str | None = None,
    key: str | None = None,
) -> Result:
    level = level_of(case.requirement)
    if not observations:
        observations = [(Verdict.NOT_EXERCISED, "no stimulus step judges this case", None)]
    judged = [(level_verdict(level, v), m, e) for v, m, e in observations]
    verdict = aggregate(v for v, _, _ in judged)
    top = [(m, e) for v, m, e in judged if v is verdict]
    messages = list(dict.fromkeys(m for m, _ in top))
    evidence = next((evidence_of(e) for _, e in top if e is not None), None)
    key = key or f"{case.transport}-{case.stream}"
    return planned_result(
        case,
        verdict,
        "; ".join(messages[:6]),
        level=level,
        evidence=evidence,
        transcript=key if key in transcripts else None,
        cause=cause if verdict in (Verdict.FAIL, Verdict.WARN) else None,
    )


__all__ = [
    "DeliveryLog",
    "Seen",
    "StepOutcome",
    "compare_status",
    "is_delivery",
    "judge_delivery",
    "leaked",
    "matches",
    "seen_events",
]
