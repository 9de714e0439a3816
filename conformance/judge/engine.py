"""Turns check observations into Results: exactly one per planned id, plus extras.

Aggregation rule: ``verdicts.aggregate`` (the worst exercised verdict; not_exercised only when
nothing was exercised);
the message lists the observations that produced it (expected vs observed), the evidence is the
first of them. ``planned_results`` runs no check: it is computed from ``meta`` alone, so a live
session can name its cases before connecting.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from conformance.judge import registry
from conformance.judge.context import JudgeContext, result_id
from conformance.judge.registry import (
    Check,
    Observation,
    PlannedResult,
    iter_checks,
    iter_run_checks,
)
from conformance.requirements import get as get_requirement
from conformance.transcript.model import Meta, Transcript
from conformance.verdicts import Result, Verdict, aggregate, level_verdict

MAX_LISTED = 6


def _narrowed(chk: Check, meta: Meta) -> bool:
    """A probe connection names the requirements it exists for (``context["only"]``); its
    other checks still run, but only as opportunistic extras."""
    only = meta.context.get("only")
    return isinstance(only, list) and chk.requirement not in only


class _PlanMemo:
    """``planned_results`` per meta, for as long as the check registry is unchanged.

    Why: a run plans the same ~70 metas three times (the cases at collection, the session's own
    plan, the pruning of its stimulus), each time asking every check's predicates (~20k calls,
    ~0.04 s); the answer is a pure function of the meta and the registered checks. The key is
    the meta's whole JSON form, so two metas that differ in anything never share an entry.
    """

    MAX_ENTRIES = 1024

    def __init__(self) -> None:
        self._checks: list[Check] | None = None
        self._count = 0
        self._entries: dict[str, tuple[PlannedResult, ...]] = {}

    def get(self, meta: Meta) -> list[PlannedResult]:
        checks = registry.CHECKS
        if checks is not self._checks or len(checks) != self._count:  # registry changed
            self._checks, self._count = checks, len(checks)
            self._entries.clear()
        key = json.dumps(meta.to_json(), sort_keys=True, default=repr)
        found = self._entries.get(key)
        if found is None:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            found = self._entries[key] = tuple(_planned_results(meta))
        return list(found)


_PLAN_MEMO = _PlanMemo()


def planned_results(meta: Meta) -> list[PlannedResult]:
    """The Results a transcript with this meta will certainly get, computed from ``meta``."""
    return _PLAN_MEMO.get(meta)


def _planned_results(meta: Meta) -> list[PlannedResult]:
    out: list[PlannedResult] = []
    seen: set[str] = set()
    for chk in iter_checks():
        if _narrowed(chk, meta):
            continue
        if not (_safe(chk.applies, meta) and _safe(chk.plan, meta)):
            continue
        events: list[str | None] = list(chk.planned_events(meta)) if chk.per_event else [None]
        for event in events:
            rid = result_id(chk.requirement, meta, event)
            if rid not in seen:
                seen.add(rid)
                out.append(PlannedResult(rid, chk.requirement, event))
    return out


def planned_run_results(metas: Sequence[Meta]) -> list[PlannedResult]:
    """The cases the run-level checks plan for a run whose connections have these metas."""
    out: list[PlannedResult] = []
    for chk in iter_run_checks():
        out.extend(chk.plan(metas))
    return out


def judge_transcript(
    transcript: Transcript,
    *,
    server_version: str | None = None,
    validator: object | None = None,
    long: bool = False,
) -> list[Result]:
    """Judge one transcript: one Result per planned id, then extras for unplanned observations."""
    cx = JudgeContext(transcript, server_version=server_version, validator=validator, long=long)
    meta = transcript.meta
    results: list[Result] = []
    for chk in iter_checks():
        if not _safe(chk.applies, meta):
            continue
        planned = _safe(chk.plan, meta) and not _narrowed(chk, meta)
        observations = _run(chk, cx)
        if chk.per_event:
            wanted = chk.planned_events(meta) if planned else []
            by_event: dict[str | None, list[Observation]] = {}
            for obs in observations:
                by_event.setdefault(obs.event, []).append(obs)
            for event in wanted:
                results.append(
                    _result(chk, cx, event, by_event.pop(event, []), f"no {event} event observed")
                )
            for event, group in by_event.items():
                if _exercised(group):
                    results.append(_result(chk, cx, event, group, ""))
        elif planned:
            results.append(_result(chk, cx, None, observations, "nothing to judge"))
        elif _exercised(observations):
            results.append(_result(chk, cx, None, observations, ""))
    return results


def _safe(pred, meta: Meta) -> bool:  # type: ignore[no-untyped-def]
    try:
        return bool(pred(meta))
    except Exception:
        return False


def _run(chk: Check, cx: JudgeContext) -> list[Observation]:
    try:
        return list(chk.fn(cx))
    except Exception as exc:  # a bug in a check is the suite's fault, never the server's
        return [
            Observation(
                verdict=Verdict.ERROR,
                message=f"check {chk.fn.__name__} raised {type(exc).__name__}: {exc}",
            )
        ]


def _exercised(observations: Iterable[Observation]) -> bool:
    return any(o.verdict is not Verdict.NOT_EXERCISED for o in observations)


def _result(
    chk: Check,
    cx: JudgeContext,
    event: str | None,
    observations: list[Observation],
    empty_message: str,
) -> Result:
    requirement = get_requirement(chk.requirement)
    level = requirement.level
    if not observations:
        observations = [
            Observation(verdict=Verdict.NOT_EXERCISED, message=empty_message, event=event)
        ]
    judged = [(level_verdict(level, o.verdict), o) for o in observations]
    verdict = aggregate(v for v, _ in judged)
    top = [o for v, o in judged if v is verdict]
    messages: list[str] = []
    for obs in top:
        if obs.message not in messages:
            messages.append(obs.message)
    message = "; ".join(messages[:MAX_LISTED])
    if len(messages) > MAX_LISTED:
        message += f"; ... and {len(messages) - MAX_LISTED} more"
    if len(top) > 1 and len(messages) == 1:
        message = f"{message} (x{len(top)})"
    evidence = next((o.evidence for o in top if o.evidence), None)
    return Result(
        id=result_id(chk.requirement, cx.meta, event),
        requirement=chk.requirement,
        verdict=verdict,
        level=level,
        message=message,
        transport=cx.meta.transport,
        stream=cx.stream,
        event=event,
        evidence=evidence,
        transcript=cx.meta.id,
    )
