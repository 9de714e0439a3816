"""The short text summary printed after a run: counts, then what failed and why.

Modelled on h2spec's failures-only section: each failing case with its requirement level and
the judge's expected-vs-observed message, so the terminal alone says what to fix. Text is
redacted by the caller's ``Redactor`` before it is printed.

With a baseline, failures it expects move to their own EXPECTED section (they no longer fail the
run) and stale entries get a section of their own; ``--repeat`` adds a FLAKY section.

Exit statuses (practice 7): 0 conformant at the chosen threshold, 1 a failure the baseline does
not expect, 2 only harness/config/network errors, 3 a stale baseline (and nothing worse).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from conformance.findings import Analysis, analyse
from conformance.reports.findings_text import finding_lines
from conformance.verdicts import SUMMARY_KEYS, Result, Verdict, summarise

if TYPE_CHECKING:
    from conformance.baseline import BaselineOutcome
    from conformance.transcript.model import Transcript

__all__ = [
    "EXIT_ERROR",
    "EXIT_FAIL",
    "EXIT_OK",
    "EXIT_STALE_BASELINE",
    "exit_status",
    "not_exercised_lines",
    "summary_lines",
]

EXIT_OK, EXIT_FAIL, EXIT_ERROR, EXIT_STALE_BASELINE = 0, 1, 2, 3

MAX_LISTED = 50
_MAX_MESSAGE = 400


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def exit_status(
    results: Sequence[Result],
    *,
    strict: bool = False,
    baseline: BaselineOutcome | None = None,
) -> int:
    """The run's exit status; ``strict`` (``--fail-on warn``) makes a warn count as a fail.

    Results the baseline expects do not count; stale baseline entries give 3 when nothing
    worse happened.
    """
    expected = baseline.expected_ids if baseline is not None else frozenset()
    verdicts = {r.verdict for r in results if r.id not in expected}
    if Verdict.FAIL in verdicts or (strict and Verdict.WARN in verdicts):
        return EXIT_FAIL
    if Verdict.ERROR in verdicts:
        return EXIT_ERROR
    if baseline is not None and baseline.stale:
        return EXIT_STALE_BASELINE
    return EXIT_OK


def _listing(title: str, rows: Sequence[Result], explained: int = 0) -> list[str]:
    if not rows and not explained:
        return []
    if explained:
        lines = [
            f"{title} ({len(rows) + explained}; {explained} counted under their finding above, "
            "listed in report.html):"
        ]
    else:
        lines = [f"{title} ({len(rows)}):"]
    for result in rows[:MAX_LISTED]:
        lines.append(f"  {result.id} [{result.level.value}]: {_short(result.message)}")
        if result.evidence:
            lines.append(f"    evidence: {_short(result.evidence)}")
    if len(rows) > MAX_LISTED:
        lines.append(f"  ... and {len(rows) - MAX_LISTED} more (see report.json)")
    return lines


def summary_lines(
    results: Sequence[Result],
    *,
    target: str,
    strict: bool = False,
    baseline: BaselineOutcome | None = None,
    flaky: Mapping[str, Sequence[str]] | None = None,
    excluded: int = 0,
    transcripts: Iterable[Transcript] | None = None,
    analysis: Analysis | None = None,
) -> list[str]:
    """Counts, then the findings (one per root cause, consequences beneath), then the failing
    cases that are not a finding's consequence. Findings need ``transcripts`` (or a ready
    ``analysis``); without either they are derived from the results alone."""
    counts = summarise(list(results))
    if analysis is None:
        analysis = analyse(results, transcripts or ())
    consequences = {c.id for f in analysis.findings for c in f.consequences}
    lines = [
        f"target: {target}",
        "summary: " + ", ".join(f"{counts[key]} {key}" for key in SUMMARY_KEYS),
    ]
    lines += finding_lines(analysis)
    if excluded:
        lines.append(f"excluded: {excluded} case(s) not run (--exclude; see report.json)")
    lines += not_exercised_lines(results)
    expected = baseline.expected_ids if baseline is not None else frozenset()
    listed = [Verdict.FAIL, Verdict.ERROR] + ([Verdict.WARN] if strict else [])
    for verdict in listed:
        rows = sorted(
            (r for r in results if r.verdict is verdict and r.id not in expected),
            key=lambda r: r.id,
        )
        own = [r for r in rows if r.id not in consequences]
        lines += _listing(verdict.value.upper(), own, len(rows) - len(own))
    if flaky:
        by_id = {r.id: r for r in results}
        lines.append(f"FLAKY ({len(flaky)}): verdict differed across repeats; worst is reported")
        for rid in sorted(flaky)[:MAX_LISTED]:
            shown = by_id[rid].verdict.value if rid in by_id else "?"
            lines.append(f"  {rid}: {', '.join(flaky[rid])} -> {shown}")
        if len(flaky) > MAX_LISTED:
            lines.append(f"  ... and {len(flaky) - MAX_LISTED} more (see report.json)")
    if baseline is not None:
        lines += _baseline_lines(baseline)
    return lines


#: How many distinct not_exercised reasons the terminal names.
TOP_REASONS = 5


def not_exercised_lines(results: Sequence[Result]) -> list[str]:
    """The not_exercised count with its most frequent reasons: a run that skipped most of the
    suite says so on the terminal, not only in report.json."""
    reasons: dict[str, int] = {}
    for result in results:
        if result.verdict is Verdict.NOT_EXERCISED:
            why = _short(result.message or "no reason given")
            reasons[why] = reasons.get(why, 0) + 1
    if not reasons:
        return []
    total = sum(reasons.values())
    lines = [f"NOT EXERCISED ({total}), top reasons:"]
    ranked = sorted(reasons.items(), key=lambda pair: (-pair[1], pair[0]))
    for why, count in ranked[:TOP_REASONS]:
        lines.append(f"  {count} x {why}")
    if len(ranked) > TOP_REASONS:
        rest = sum(count for _, count in ranked[TOP_REASONS:])
        lines.append(f"  {rest} x other reasons ({len(ranked) - TOP_REASONS}; see report.json)")
    return lines


def _baseline_lines(outcome: BaselineOutcome) -> list[str]:
    source = outcome.baseline.source or "baseline"
    lines = [
        f"baseline: {source}: {len(outcome.expected)} expected, {len(outcome.unexpected)} "
        f"unexpected, {len(outcome.stale)} stale"
    ]
    lines += [f"  note: {note}" for note in outcome.notes]
    rows = sorted(outcome.expected, key=lambda pair: pair[0].id)
    if rows:
        lines.append(f"EXPECTED by the baseline ({len(rows)}): not failing the run")
        for result, entry in rows[:MAX_LISTED]:
            why = entry.reason or "no reason given"
            issue = f" ({entry.issue})" if entry.issue else ""
            lines.append(f"  {result.id} [{result.verdict.value}]: {_short(why)}{issue}")
        if len(rows) > MAX_LISTED:
            lines.append(f"  ... and {len(rows) - MAX_LISTED} more (see report.json)")
    if outcome.stale:
        lines.append(
            f"STALE BASELINE ({len(outcome.stale)}): entries that did not happen; "
            "remove or update them"
        )
        for stale in outcome.stale[:MAX_LISTED]:
            lines.append(f"  {stale.entry.id}: {_short(stale.why)}")
    return lines
