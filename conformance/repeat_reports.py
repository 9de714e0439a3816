"""``--repeat`` in a run: one merged outcome, per-repeat reports (``repeats/<n>/``), and the
report.json annotations of ``--repeat`` and ``--baseline``; split from ``run.py`` so each module
keeps one job."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.observations import OBSERVED, fold
from conformance.redact import Redactor
from conformance.repeat import merge_results
from conformance.reports.run_reports import write_run_reports
from conformance.requirements import level_of
from conformance.verdicts import Result, error_result

if TYPE_CHECKING:
    from conformance.baseline import BaselineOutcome
    from conformance.session import PlannedCase, SessionOutcome

__all__ = ["annotations", "merge_repeats", "repeat_reports", "write_repeats"]

Repeats = Sequence["SessionOutcome | None"]


def repeat_results(
    outcome: SessionOutcome | None, plan: Sequence[PlannedCase], session_error: str | None
) -> dict[str, Result]:
    """One repeat's Results by case id (every case ``error`` for a repeat that crashed)."""
    if outcome is not None:
        return dict(outcome.results)
    message = session_error or "the live session did not run"
    return {c.id: error_result(c, message, level=level_of(c.requirement)) for c in plan}


def merge_repeats(
    repeats: Repeats, plan: Sequence[PlannedCase], session_error: str | None
) -> tuple[SessionOutcome, dict[str, list[str]]]:
    """One outcome for N repeats (worst verdict per case; the first finished repeat's
    transcripts, every repeat's duration) and each case's verdict history."""
    merged = merge_results(
        [repeat_results(o, plan, session_error) for o in repeats],
        [o.extra_results for o in repeats if o is not None],
    )
    done = [o for o in repeats if o is not None]
    outcome = replace(
        done[0],
        results=merged.results,
        extra_results=merged.extra_results,
        duration_s=sum(o.duration_s for o in done),
    )
    return outcome, merged.history


def repeat_reports(
    repeats: Repeats,
    plan: Sequence[PlannedCase],
    selected: set[str],
    observed: Callable[[SessionOutcome, str], list[Result]],
    session_error: str | None,
) -> list[tuple[SessionOutcome | None, list[Result]]]:
    """Each repeat with its own Results of the selected cases (``observed[...]`` folded from
    ``observed(outcome, case_id)``), for ``write_repeats``."""
    per_repeat = []
    for outcome in repeats:
        results = repeat_results(outcome, plan, session_error)
        own = [r for rid, r in results.items() if rid in selected]
        if outcome is not None:
            own += [
                fold(case, observed(outcome, case.id), outcome.unjudged.get(case.id))
                for case in plan
                if case.requirement == OBSERVED and case.id in selected
            ]
        per_repeat.append((outcome, own))
    return per_repeat


def write_repeats(
    report_dir: Path,
    per_repeat: Sequence[tuple[SessionOutcome | None, list[Result]]],
    target: str,
    strict: bool,
    redactor: Redactor,
    started_at: str | None,
) -> None:
    """Each repeat's own report and transcripts under ``repeats/<n>/`` (replayable)."""
    for number, (outcome, own) in enumerate(per_repeat, start=1):
        write_run_reports(
            report_dir / "repeats" / str(number),
            target=target,
            started_at=outcome.started_at if outcome is not None else started_at or "",
            duration_s=outcome.duration_s if outcome is not None else 0.0,
            results=own,
            transcripts=outcome.transcripts if outcome is not None else [],
            redactor=redactor,
            strict=strict,
            extra={"repeat": number, "of": len(per_repeat)},
        )
        if outcome is not None and outcome.stimuli is not None:
            from conformance.matrix.stimulus_log import write_stimulus_log

            write_stimulus_log(
                report_dir / "repeats" / str(number), redactor.transcript(outcome.stimuli)
            )


def annotations(
    results: Sequence[Result],
    baseline: BaselineOutcome | None,
    repeats: int,
    history: Mapping[str, list[str]],
) -> dict[str, dict[str, Any]]:
    """Per-result report.json fields: the baseline label, the verdicts of each repeat."""
    rows: dict[str, dict[str, Any]] = {}
    for result in results:
        row: dict[str, Any] = {}
        if baseline is not None:
            row["baseline"] = baseline.labels.get(result.id)
        if repeats > 1:
            sequence = history.get(result.id, [result.verdict.value])
            row["verdicts"] = sequence
            row["flaky"] = len(set(sequence)) > 1
        if row:
            rows[result.id] = row
    return rows
