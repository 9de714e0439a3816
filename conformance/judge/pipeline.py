"""The one judging pipeline: live runs and replay both call ``judge_run``.

``judge_run(transcripts, stimulus_log, context) -> list[Result]`` runs every per-transcript check
(``judge_transcript``) and every run-level check (delivery, discovery agreement: registered with
``@run_check``), then applies the run's structured facts (``matrix.RunContext``):

* with a plan, each planned case gets exactly one Result: observations of one id on several
  transcripts are folded with ``verdicts.aggregate``, a run-level check's Result replaces them,
  a connection whose setup was given up turns all of its cases ``error`` (the environment
  failed, not the server), and a case nothing judged is ``not_exercised`` with its reason.
  Other observations follow as extras. Order: the plan's, then the extras.
* without a plan (captures, a bare transcript file) every Result is kept, a repeated id
  disambiguated as ``id@transcript``, then the run-level Results.

Pure: no I/O, no clock, so a saved run replays to the same cases and verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import partial

from conformance.judge.capacity import capacity_finding
from conformance.judge.engine import judge_transcript, planned_results
from conformance.judge.registry import RunJudgeContext, iter_run_checks
from conformance.matrix.delivery_log import DeliveryLog
from conformance.matrix.run_context import RunContext
from conformance.parallel import split_work
from conformance.requirements import level_of
from conformance.transcript.model import Transcript
from conformance.verdicts import Result, Verdict, aggregate_results, not_exercised_result

__all__ = ["judge_run"]

#: Fewer transcripts are judged in-process only (a bare file, a unit test's few).
MIN_FORKED_TRANSCRIPTS = 16
#: The part of the judging this process keeps when it forks a helper: a live run judges in a
#: thread while its event loop runs the stimulus driver's cleanup (REST deletes), so this
#: process's share runs slower than the helper's. Measured on the embedded quick run (5 runs
#: each): the split took 0.33 s at one half (the helper idle most of it), 0.25 s at 0.35,
#: 0.28 s at 0.3.
OWN_SHARE = 0.35


def judge_run(
    transcripts: Mapping[str, Transcript] | Iterable[Transcript],
    stimulus_log: DeliveryLog | None,
    context: RunContext,
) -> list[Result]:
    """Judge one run (see the module docstring). ``transcripts`` by key (``Meta.id``) or as a
    sequence; ``stimulus_log`` None when no stimulus log exists (nothing was stimulated)."""
    by_key = _by_key(transcripts)
    log = stimulus_log if stimulus_log is not None else DeliveryLog()
    if context.plan is None:
        return _judge_unplanned(by_key, log, context)
    plan = context.plan
    planned = {case.id: case for case in plan}
    results: dict[str, Result] = {}
    extras: list[Result] = []
    judged = [t for key, t in by_key.items() if key not in context.run_level_only]
    per_transcript, run_level = _judge_all(
        judged, context, RunJudgeContext(transcripts=by_key, log=log, cases=plan, context=context)
    )
    for own in per_transcript:
        for result in own:
            if result.id not in planned:
                extras.append(result)
            elif result.id in results:
                results[result.id] = aggregate_results(results[result.id], result)
            else:
                results[result.id] = result
    for result in run_level:
        if result.id in planned:
            results[result.id] = result
    finding, explained = capacity_finding(results, by_key, context, extras)
    extras.extend(finding)
    _setup_failures_are_errors(results, by_key, context, skip=explained)
    for case in plan:
        if case.id not in results:
            results[case.id] = not_exercised_result(
                case, context.reason_unjudged(case), level=level_of(case.requirement)
            )
    return [results[case.id] for case in plan] + extras


def _by_key(
    transcripts: Mapping[str, Transcript] | Iterable[Transcript],
) -> dict[str, Transcript]:
    if isinstance(transcripts, Mapping):
        return dict(transcripts)
    return {t.meta.id: t for t in transcripts}


def _judge_one(transcript: Transcript, context: RunContext) -> list[Result]:
    return judge_transcript(
        transcript,
        server_version=context.server_version,
        validator=context.validator,
        long=context.long,
    )


def _judge_unplanned(
    by_key: dict[str, Transcript], log: DeliveryLog, context: RunContext
) -> list[Result]:
    results: list[Result] = []
    seen: set[str] = set()
    # Run-level checks judge what the recording allows: discovery agreement whenever both
    # instance documents are there, delivery only the cases a format-1 stimulus log names.
    transcripts = list(by_key.values())
    per_transcript, run_level = _judge_all(
        transcripts,
        context,
        RunJudgeContext(transcripts=by_key, log=log, cases=context.legacy_cases, context=context),
    )
    for transcript, own in zip(transcripts, per_transcript, strict=True):
        for result in own:
            if result.transcript is None:
                result = replace(result, transcript=transcript.meta.id)
            if result.id in seen:
                result = replace(result, id=f"{result.id}@{transcript.meta.id}")
            seen.add(result.id)
            results.append(result)
    return results + run_level


def _judge_all(
    transcripts: list[Transcript], context: RunContext, rcx: RunJudgeContext
) -> tuple[list[list[Result]], list[Result]]:
    """Each transcript's Results, in order, and the run-level checks' Results, in check order;
    computed on two cores when that pays (``conformance/parallel.py``: same Results).

    The run-level checks go as one task weighing half of all transcripts (the delivery check
    costs about that on the embedded server); a transcript weighs its record count."""
    weights = [float(len(t.records) + 1) for t in transcripts]
    tasks: list[Callable[[], list[Result]]] = [partial(_judge_one, t, context) for t in transcripts]
    tasks.append(lambda: [r for chk in iter_run_checks() for r in chk.fn(rcx)])
    weights.append(sum(weights) / 2)
    done = split_work(
        tasks,
        weights,
        lambda task: task(),
        min_tasks=MIN_FORKED_TRANSCRIPTS + 1,
        share=OWN_SHARE,
    )
    return done[:-1], done[-1]


def _setup_failures_are_errors(
    results: dict[str, Result],
    by_key: Mapping[str, Transcript],
    context: RunContext,
    *,
    skip: set[str] | frozenset[str] = frozenset(),
) -> None:
    """A connection whose setup was given up (rate limited, unreachable) is the environment's
    failure, never the server's answer: all its cases, delivery included, are ``error``."""
    for key, failure in context.setup_failures.items():
        if key in skip:  # explained by the capacity finding (judge/capacity.py)
            continue
        transcript = by_key.get(key)
        if transcript is None:
            continue
        ids = {p.id for p in planned_results(transcript.meta)}
        for rid, result in list(results.items()):
            if rid in ids or result.transcript == key:
                results[rid] = replace(
                    result, verdict=Verdict.ERROR, message=f"{key}: {failure}", transcript=key
                )
