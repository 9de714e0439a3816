"""``report.json``: the stable, machine-readable result of a run or a replay.

The shape is a public contract (CI systems grep it): ``target``, ``suite_version``,
``started_at``, ``duration_s``, ``summary`` with one count per verdict, and ``results`` with one
row per case. Add keys; never rename or remove them. ``annotations`` adds keys to a case's row
(``baseline``, ``flaky``, ``verdicts``) without touching the Result's own keys.

With an ``Analysis`` (``conformance.findings``) the report also carries ``findings`` (one per
root cause, worst first), ``capabilities`` and ``not_exercised_reasons``, and each row that a
finding covers gets ``"finding": "<finding id>"``; ``schemas/run-report.schema.json`` documents it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.findings import Analysis
from conformance.reports.json_text import dump_indented
from conformance.verdicts import Result, summarise


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    """What was tested and when; ``extra`` carries mode details (stimulus, read-only, replay)."""

    target: str
    started_at: str
    duration_s: float
    extra: dict[str, Any] = field(default_factory=dict)


Annotations = Mapping[str, Mapping[str, Any]]


def _row(
    result: Result, annotations: Annotations | None, analysis: Analysis | None
) -> dict[str, Any]:
    row = result.to_json()
    if annotations and result.id in annotations:
        row.update({k: v for k, v in annotations[result.id].items() if k not in row})
    if analysis is not None and result.id in analysis.by_case:
        row.setdefault("finding", analysis.by_case[result.id])
    return row


def analysis_json(analysis: Analysis) -> dict[str, Any]:
    """The report.json keys an analysis adds."""
    return {
        "findings": [f.to_json() for f in analysis.findings],
        "capabilities": analysis.capabilities.to_json(),
        "not_exercised_reasons": [
            {"reason": reason, "count": count} for reason, count in analysis.not_exercised
        ],
    }


def build_report(
    info: RunInfo,
    results: list[Result],
    annotations: Annotations | None = None,
    analysis: Analysis | None = None,
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "target": info.target,
        "suite_version": __version__,
        "started_at": info.started_at,
        "duration_s": round(info.duration_s, 3),
        "summary": summarise(results),
        "results": [_row(r, annotations, analysis) for r in sorted(results, key=lambda r: r.id)],
    }
    if analysis is not None:
        report.update(analysis_json(analysis))
    report.update(info.extra)
    return report


def write_json_report(
    report_dir: Path,
    info: RunInfo,
    results: list[Result],
    annotations: Annotations | None = None,
    analysis: Analysis | None = None,
) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "report.json"
    report = build_report(info, results, annotations, analysis)
    # The text of ``json.dumps(report, indent=2, ensure_ascii=False)``, at C-encoder speed.
    with path.open("w", encoding="utf-8") as file:
        dump_indented(report, file)
        file.write("\n")
    return path
