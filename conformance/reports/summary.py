"""The short text summary printed after a run: counts, then what failed and why.

Modelled on h2spec's failures-only section: each failing case with its requirement level and
the judge's expected-vs-observed message, so the terminal alone says what to fix. Text is
redacted by the caller's ``Redactor`` before it is printed.
"""

from __future__ import annotations

from conformance.verdicts import SUMMARY_KEYS, Result, Verdict, summarise

__all__ = ["exit_status", "summary_lines"]

MAX_LISTED = 50
_MAX_MESSAGE = 400


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def exit_status(results: list[Result], *, strict: bool = False) -> int:
    """0: no MUST-level failure; 1: at least one fail (or warn under strict); 2: only errors."""
    verdicts = {r.verdict for r in results}
    if Verdict.FAIL in verdicts or (strict and Verdict.WARN in verdicts):
        return 1
    if Verdict.ERROR in verdicts:
        return 2
    return 0


def summary_lines(results: list[Result], *, target: str, strict: bool = False) -> list[str]:
    counts = summarise(results)
    lines = [
        f"target: {target}",
        "summary: " + ", ".join(f"{counts[key]} {key}" for key in SUMMARY_KEYS),
    ]
    listed = [Verdict.FAIL, Verdict.ERROR] + ([Verdict.WARN] if strict else [])
    for verdict in listed:
        rows = sorted((r for r in results if r.verdict is verdict), key=lambda r: r.id)
        if not rows:
            continue
        lines.append(f"{verdict.value.upper()} ({len(rows)}):")
        for result in rows[:MAX_LISTED]:
            lines.append(f"  {result.id} [{result.level.value}]: {_short(result.message)}")
            if result.evidence:
                lines.append(f"    evidence: {_short(result.evidence)}")
        if len(rows) > MAX_LISTED:
            lines.append(f"  ... and {len(rows) - MAX_LISTED} more (see report.json)")
    return lines
