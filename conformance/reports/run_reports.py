"""Write everything a run leaves behind: report.json, report.html, summary.md, junit.xml and the
redacted transcripts.

Shared by the pytest plugin and anything else that produces a run (the benchmark, tests): plain
objects in, files out, every string through the ``Redactor`` first. The transcripts go to
``transcripts/<transcript id>.jsonl`` so ``mastodon-streaming-conformance replay DIR`` can
re-judge the run offline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from conformance.findings import Analysis, analyse
from conformance.parallel import split_work
from conformance.redact import Redactor
from conformance.reports.findings_text import summary_markdown
from conformance.reports.json_report import RunInfo, write_json_report
from conformance.reports.junit import write_junit
from conformance.transcript.model import Transcript, write_transcripts
from conformance.verdicts import Result

if TYPE_CHECKING:
    from conformance.baseline import BaselineOutcome

__all__ = [
    "default_report_dir",
    "redact_result",
    "write_judged_reports",
    "write_run_reports",
    "write_summary_markdown",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: From this many results on, the report files are written on two cores.
FORKED_REPORTS_FROM = 200


def default_report_dir(base: Path, target: str, when: datetime | None = None) -> Path:
    """``<base>/reports/<target-host>-<UTC timestamp>``."""
    host = urlsplit(target).hostname or "target"
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return base / "reports" / f"{_UNSAFE.sub('_', host)}-{stamp}"


def redact_result(result: Result, redactor: Redactor) -> Result:
    # Always: even a redactor with no known secret removes passwords from URLs.
    message = redactor.text(result.message)
    evidence = redactor.text(result.evidence) if result.evidence is not None else None
    if message == result.message and evidence == result.evidence:
        return result  # nothing to hide: no copy (a run redacts every case, ~1200 of them)
    return replace(result, message=message, evidence=evidence)


def _file_names(transcripts: list[Transcript]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for transcript in transcripts:
        stem = _UNSAFE.sub("_", transcript.meta.id).strip("._") or "transcript"
        count = seen.get(stem, 0)
        seen[stem] = count + 1
        names.append(f"{stem}.jsonl" if count == 0 else f"{stem}-{count}.jsonl")
    return names


_STATUS_WORDS = {1: "fail", 2: "error", 3: "stale baseline"}


def write_summary_markdown(
    report_dir: Path, info: RunInfo, results: list[Result], analysis: Analysis
) -> Path:
    """``summary.md``: for CI job summaries (``cat summary.md >> $GITHUB_STEP_SUMMARY``)."""
    exit_code = info.extra.get("exit_status")
    status = _STATUS_WORDS.get(exit_code) if isinstance(exit_code, int) else None
    version = info.extra.get("server_version")
    path = report_dir / "summary.md"
    path.write_text(
        summary_markdown(
            analysis,
            results,
            target=info.target,
            server_version=version if isinstance(version, str) else None,
            status=status,
        ),
        encoding="utf-8",
    )
    return path


def _html(
    report_dir: Path,
    info: RunInfo,
    results: list[Result],
    links: Mapping[str, str] | None,
    analysis: Analysis,
) -> Path:
    """report.html; jinja2 is imported here, not with this module (~50 ms of CPU), so a run
    whose HTML is written by the forked helper never imports it (``conformance/parallel.py``)."""
    from conformance.reports.html import write_html_report

    return write_html_report(report_dir, info, results, transcript_links=links, analysis=analysis)


def _stimulus_log(report_dir: Path, stimuli: Transcript) -> Path:
    from conformance.matrix.stimulus_log import write_stimulus_log

    return write_stimulus_log(report_dir, stimuli)


def write_judged_reports(
    report_dir: Path,
    info: RunInfo,
    results: list[Result],
    *,
    transcripts: Iterable[Transcript] = (),
    annotations: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Path]:
    """report.json, report.html and summary.md of already-redacted results (replay uses it):
    all three lead with the findings of ``conformance.findings.analyse``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    analysis = analyse(results, transcripts)
    return {
        "json": write_json_report(report_dir, info, results, annotations, analysis),
        "html": _html(report_dir, info, results, None, analysis),
        "summary": write_summary_markdown(report_dir, info, results, analysis),
    }


def write_run_reports(
    report_dir: Path,
    *,
    target: str,
    started_at: str,
    duration_s: float,
    results: list[Result],
    transcripts: Iterable[Transcript] = (),
    redactor: Redactor | None = None,
    strict: bool = False,
    extra: dict[str, Any] | None = None,
    annotations: Mapping[str, Mapping[str, Any]] | None = None,
    baseline: BaselineOutcome | None = None,
    stimuli: Transcript | None = None,
) -> dict[str, Path]:
    """Write the run's artifacts into ``report_dir``; returns the paths by kind.

    ``stimuli``, the run's stimulus log, goes to ``transcripts/_stimuli.jsonl`` (redacted here).

    ``annotations`` adds keys to report.json rows by result id; ``baseline`` changes how
    junit.xml shows expected results and stale entries (report.json gets its block in ``extra``).
    """
    redactor = redactor or Redactor()
    clean = [redact_result(r, redactor) for r in results]
    info = RunInfo(
        target=redactor.url(target),
        started_at=started_at,
        duration_s=duration_s,
        extra=redactor.json(extra or {}),
    )
    listed = [redactor.transcript(t) for t in transcripts]
    analysis = analyse(clean, listed)
    report_dir.mkdir(parents=True, exist_ok=True)
    transcript_dir = report_dir / "transcripts"
    transcript_dir.mkdir(parents=True, exist_ok=True)
    names = _file_names(listed)
    links: dict[str, str] = {}
    for name, transcript in zip(names, listed, strict=True):
        links.setdefault(transcript.meta.id, f"transcripts/{name}")

    def transcripts_files() -> Path:
        for name, transcript in zip(names, listed, strict=True):
            write_transcripts(transcript_dir / name, [transcript])
        return transcript_dir

    # One file each, independent of one another: a big run writes them on two cores
    # (``conformance/parallel.py``); weights are their measured shares of the time.
    writers: dict[str, tuple[float, Callable[[], Path]]] = {
        # Annotations are labels and verdict words (no secrets); keyed by the unredacted id.
        "json": (2, lambda: write_json_report(report_dir, info, clean, annotations, analysis)),
        "junit": (
            1,
            lambda: write_junit(
                report_dir,
                clean,
                target=info.target,
                started_at=started_at,
                duration_s=duration_s,
                strict=strict,
                baseline=baseline,
            ),
        ),
        "transcripts": (5, transcripts_files),
        "html": (7.5, lambda: _html(report_dir, info, clean, links, analysis)),
        "summary": (0.1, lambda: write_summary_markdown(report_dir, info, clean, analysis)),
    }
    if stimuli is not None:
        log: Transcript = stimuli
        writers["stimuli"] = (1, lambda: _stimulus_log(report_dir, redactor.transcript(log)))
    jobs = list(writers.values())
    done = split_work(
        [job for _, job in jobs],
        [weight for weight, _ in jobs],
        lambda job: job(),
        min_tasks=len(jobs) if len(clean) >= FORKED_REPORTS_FROM else len(jobs) + 1,
    )
    return dict(zip(writers, done, strict=True))
