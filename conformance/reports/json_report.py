"""``report.json``: the stable, machine-readable result of a run or a replay.

The shape is a public contract (CI systems grep it): ``target``, ``suite_version``,
``started_at``, ``duration_s``, ``summary`` with one count per verdict, and ``results`` with one
row per case. Add keys; never rename or remove them. ``annotations`` adds keys to a case's row
(``baseline``, ``flaky``, ``verdicts``) without touching the Result's own keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.verdicts import Result, summarise


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    """What was tested and when; ``extra`` carries mode details (stimulus, read-only, replay)."""

    target: str
    started_at: str
    duration_s: float
    extra: dict[str, Any] = field(default_factory=dict)


Annotations = Mapping[str, Mapping[str, Any]]


def _row(result: Result, annotations: Annotations | None) -> dict[str, Any]:
    row = result.to_json()
    if annotations and result.id in annotations:
        row.update({k: v for k, v in annotations[result.id].items() if k not in row})
    return row


def build_report(
    info: RunInfo, results: list[Result], annotations: Annotations | None = None
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "target": info.target,
        "suite_version": __version__,
        "started_at": info.started_at,
        "duration_s": round(info.duration_s, 3),
        "summary": summarise(results),
        "results": [_row(r, annotations) for r in sorted(results, key=lambda r: r.id)],
    }
    report.update(info.extra)
    return report


def write_json_report(
    report_dir: Path, info: RunInfo, results: list[Result], annotations: Annotations | None = None
) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "report.json"
    path.write_text(
        json.dumps(build_report(info, results, annotations), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return path
