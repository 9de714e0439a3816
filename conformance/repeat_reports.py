"""Per-repeat reports (``repeats/<n>/``) and the report.json annotations of ``--repeat`` and
``--baseline``; split from ``run.py`` so each module keeps one job."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.redact import Redactor
from conformance.reports.run_reports import write_run_reports
from conformance.verdicts import Result

if TYPE_CHECKING:
    from conformance.baseline import BaselineOutcome
    from conformance.session import SessionOutcome

__all__ = ["annotations", "write_repeats"]


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
