"""``compare DIR...``: several runs side by side (servers, versions, live runs or replays).

Reads each run's ``report.json`` (nothing else: a report directory is self-describing) and
renders a requirement x run matrix, a capability table per run and each run's findings, as one
self-contained HTML page (jinja2, inline CSS, no script) and as Markdown. Every cell links to the
evidence: a relative link into that run's ``report.html`` filtered to the requirement
(``report.html#req=<id>``). Columns are labelled with the target's software and version.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from conformance.verdicts import SEVERITY

__all__ = ["Cell", "CompareError", "Run", "build_comparison", "load_run", "write_comparison"]

#: verdict word -> rank, worst first: the suite's one order (``verdicts.SEVERITY``).
_RANK = {v.value: n for n, v in enumerate(SEVERITY)}
_SYMBOL = {"pass": "✓", "fail": "✗", "warn": "!", "info": "i", "not_exercised": "–", "error": "E"}
_LEVELS = {"MUST": 0, "SHOULD": 1, "MAY": 2, "INFO": 3}
_COMPATIBLE = re.compile(r"\(compatible;\s*([^)]+)\)")


class CompareError(ValueError):
    """A directory that holds no readable report.json."""


@dataclass(frozen=True, slots=True)
class Run:
    """One report directory, as the comparison needs it."""

    path: Path
    label: str
    software: str
    version: str
    status: str
    summary: dict[str, int]
    verdicts: dict[str, Counter[str]]  # requirement -> verdict counts
    levels: dict[str, str]
    findings: list[dict[str, Any]] = field(default_factory=list)
    capabilities: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Cell:
    verdict: str | None
    symbol: str
    title: str
    href: str


def _software(report: dict[str, Any]) -> tuple[str, str]:
    version = report.get("server_version")
    version = version if isinstance(version, str) and version else "unknown"
    found = _COMPATIBLE.search(version)
    if found:
        name, _, own = found.group(1).strip().partition(" ")
        return name, own or version
    if report.get("is_reference") or report.get("embedded"):
        return "reference server", version
    if report.get("mode") == "replay":
        target = str(report.get("target") or "").removeprefix("replay:").rstrip("/")
        return "replay", version if version != "unknown" else (Path(target).name or version)
    return "Mastodon", version


def load_run(path: Path) -> Run:
    file = path / "report.json" if path.is_dir() else path
    try:
        report = json.loads(file.read_text(encoding="utf-8"))
        rows = report["results"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CompareError(f"{path}: no readable report.json ({exc})") from exc
    verdicts: dict[str, Counter[str]] = {}
    levels: dict[str, str] = {}
    for row in rows:
        requirement = str(row.get("requirement"))
        verdicts.setdefault(requirement, Counter())[str(row.get("verdict"))] += 1
        levels.setdefault(requirement, str(row.get("level")))
    summary = report.get("summary") or {}
    software, version = _software(report)
    status = "fail" if summary.get("fail") else "error" if summary.get("error") else "pass"
    return Run(
        path=file.parent,
        label=f"{software} {version}",
        software=software,
        version=version,
        status=status,
        summary={k: int(v) for k, v in summary.items()},
        verdicts=verdicts,
        levels=levels,
        findings=list(report.get("findings") or []),
        capabilities=dict(report.get("capabilities") or {}),
    )


def _cell(run: Run, requirement: str, base: Path) -> Cell:
    counts = run.verdicts.get(requirement)
    if not counts:
        return Cell(None, "", f"{run.label}: not planned", "")
    worst = min(counts, key=lambda v: _RANK.get(v, 9))
    parts = ", ".join(f"{counts[v]} {v}" for v in sorted(counts, key=lambda v: _RANK.get(v, 9)))
    report = Path(os.path.relpath(run.path / "report.html", base)).as_posix()
    return Cell(
        worst,
        _SYMBOL.get(worst, "?"),
        f"{requirement} on {run.label}: {parts}",
        f"{report}#req={quote(requirement, safe='')}",
    )


def _unique_labels(runs: list[Run]) -> list[str]:
    counts = Counter(r.label for r in runs)
    return [f"{r.label} ({r.path.name})" if counts[r.label] > 1 else r.label for r in runs]


def build_comparison(runs: list[Run], output: Path) -> dict[str, Any]:
    """Everything the HTML and Markdown show (pure; links relative to ``output``)."""
    levels: dict[str, str] = {}
    for run in runs:
        for requirement, level in run.levels.items():
            levels.setdefault(requirement, level)
    requirements = sorted(levels, key=lambda r: (_LEVELS.get(levels[r], 9), r))
    rows = [
        {"requirement": r, "level": levels[r], "cells": [_cell(run, r, output) for run in runs]}
        for r in requirements
    ]
    streams: list[str] = []
    for run in runs:
        for stream in run.capabilities.get("streams") or {}:
            if stream not in streams:
                streams.append(stream)
    capability_rows = []
    for stream in sorted(streams):
        cells = []
        for run in runs:
            per = (run.capabilities.get("streams") or {}).get(stream) or {}
            cells.append(
                {t: (per.get(t) or {}).get("symbol", "?") for t in ("sse", "ws")} if per else None
            )
        capability_rows.append({"stream": stream, "cells": cells})
    features: list[str] = []
    for run in runs:
        for name in run.capabilities.get("features") or {}:
            if name not in features:
                features.append(name)
    feature_rows = [
        {
            "name": name,
            "cells": [
                ((run.capabilities.get("features") or {}).get(name) or {}).get("symbol", "")
                for run in runs
            ],
        }
        for name in features
    ]
    return {
        "runs": runs,
        "labels": _unique_labels(runs),
        "links": [Path(os.path.relpath(r.path / "report.html", output)).as_posix() for r in runs],
        "rows": rows,
        "capability_rows": capability_rows,
        "feature_rows": feature_rows,
        "symbols": _SYMBOL,
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("conformance.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def render_markdown(view: dict[str, Any]) -> str:
    labels = view["labels"]
    lines = ["# Mastodon streaming conformance: comparison", ""]
    lines.append("| run | verdict | pass | fail | warn | not exercised | findings |")
    lines.append("|---|---|---|---|---|---|---|")
    for label, link, run in zip(labels, view["links"], view["runs"], strict=True):
        s = run.summary
        lines.append(
            f"| [{_md(label)}]({link}) | {run.status} | {s.get('pass', 0)} | {s.get('fail', 0)} | "
            f"{s.get('warn', 0)} | {s.get('not_exercised', 0)} | {len(run.findings)} |"
        )
    lines += ["", "## Capabilities (SSE / WebSocket)", ""]
    lines.append("| stream | " + " | ".join(_md(x) for x in labels) + " |")
    lines.append("|---" * (len(labels) + 1) + "|")
    for row in view["capability_rows"]:
        cells = [f"{c['sse']} / {c['ws']}" if c else "" for c in row["cells"]]
        lines.append(f"| {row['stream']} | " + " | ".join(cells) + " |")
    for row in view["feature_rows"]:
        lines.append(f"| {_md(row['name'])} | " + " | ".join(row["cells"]) + " |")
    lines += ["", "## Findings", ""]
    for label, run in zip(labels, view["runs"], strict=True):
        listed = ", ".join(f"`{f.get('id')}` ({f.get('verdict')})" for f in run.findings)
        lines.append(f"* **{_md(label)}**: {listed or 'none'}")
    lines += ["", "## Requirement × run", ""]
    lines.append("| requirement | level | " + " | ".join(_md(x) for x in labels) + " |")
    lines.append("|---" * (len(labels) + 2) + "|")
    for row in view["rows"]:
        cells = [f"[{c.symbol} {c.verdict}]({c.href})" if c.verdict else "" for c in row["cells"]]
        lines.append(f"| `{row['requirement']}` | {row['level']} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Legend: " + ", ".join(f"{s} {v}" for v, s in _SYMBOL.items()) + ".")
    return "\n".join(lines) + "\n"


def write_comparison(dirs: list[Path], output: Path) -> dict[str, Path]:
    """Read the runs, write ``compare.html`` and ``compare.md`` into ``output``."""
    runs = [load_run(Path(d)) for d in dirs]
    output.mkdir(parents=True, exist_ok=True)
    view = build_comparison(runs, output.resolve())
    html = _environment().get_template("compare.html.j2").render(**view)
    paths = {"html": output / "compare.html", "markdown": output / "compare.md"}
    paths["html"].write_text(html, encoding="utf-8")
    paths["markdown"].write_text(render_markdown(view), encoding="utf-8")
    return paths
