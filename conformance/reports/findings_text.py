"""Findings as plain text lines (terminal) and as Markdown (``summary.md``).

Both lead with what a server developer must fix: one line per finding (worst first) with its
consequences beneath it, counted under the cause instead of listed as failures of their own.
Text only: the caller redacts and prints; ``markdown`` is written to the report directory.
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.findings.model import Analysis, Finding
from conformance.verdicts import SUMMARY_KEYS, Result, summarise

__all__ = ["MAX_FINDINGS", "finding_lines", "summary_markdown"]

MAX_FINDINGS = 12
_MAX_TEXT = 160
_GROUPS_SHOWN = 4
_ICON = {"fail": "❌", "error": "⚠️", "warn": "⚠️", "pass": "✅", "not_exercised": "➖"}


def _short(text: str, limit: int = _MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _scope(finding: Finding) -> str:
    transports = "/".join(finding.transports) or "-"
    streams = len(finding.streams)
    return f"{transports}, {streams} stream{'s' if streams != 1 else ''}"


def _consequence_text(finding: Finding) -> str:
    groups = finding.consequence_groups()
    shown = ", ".join(f"{req} ×{n}" for req, n in groups[:_GROUPS_SHOWN])
    if len(groups) > _GROUPS_SHOWN:
        shown += f", +{len(groups) - _GROUPS_SHOWN} more"
    counts = finding.consequence_counts
    verdicts = ", ".join(f"{counts[k]} {k}" for k in SUMMARY_KEYS if counts.get(k))
    verb = "blocks" if finding.kind == "capability" else "explains"
    return f"{verb} {len(finding.consequences)} case(s) ({verdicts}): {shown}"


def finding_lines(analysis: Analysis, *, limit: int = MAX_FINDINGS) -> list[str]:
    """The terminal's FINDINGS section: each finding, then its consequences indented."""
    findings = analysis.findings
    if not findings:
        return ["FINDINGS: none"]
    lines = [f"FINDINGS ({len(findings)}): one per root cause, worst first"]
    for number, finding in enumerate(findings[:limit], start=1):
        cases = f"{len(finding.cases)} case(s), " if finding.cases else ""
        lines.append(
            f"  {number}. {finding.verdict.upper()} [{finding.level}] {finding.id}: "
            f"{_short(finding.title, 100)} ({cases}{_scope(finding)})"
        )
        if finding.first is not None:
            lines.append(f"     first: {finding.first.case}: {_short(finding.first.message)}")
        if finding.consequences:
            lines.append(f"     {_consequence_text(finding)}")
            lines.append(
                f"       e.g. {finding.consequences[0].id}: {finding.consequences[0].because}"
            )
    if len(findings) > limit:
        lines.append(f"  ... and {len(findings) - limit} more findings (see report.html)")
    return lines


def _cell(text: str) -> str:
    return _short(text).replace("|", "\\|").replace("`", "'")


def summary_markdown(
    analysis: Analysis,
    results: Sequence[Result],
    *,
    target: str,
    server_version: str | None = None,
    status: str | None = None,
) -> str:
    """``summary.md``: banner, capability table, findings table, not_exercised reasons, links.

    Stays under 60 lines for any run: findings and reasons are capped, the rest is one link
    away in report.html.
    """
    counts = summarise(list(results))
    if status is None:
        status = (
            "fail"
            if counts["fail"]
            else "error"
            if counts["error"]
            else "warn"
            if counts["warn"]
            else "pass"
        )
    failing = sum(1 for f in analysis.findings if f.verdict == "fail")
    lines = [
        f"## {_ICON.get(status, '')} {status.upper()}: Mastodon streaming conformance",
        "",
        f"**{len(analysis.findings)} finding(s)** ({failing} failing) on `{_cell(target)}`"
        f" (server {_cell(server_version or 'unknown')}). "
        + ", ".join(f"{counts[k]} {k}" for k in SUMMARY_KEYS)
        + ". [Full report](report.html)",
        "",
    ]
    lines += _capability_markdown(analysis)
    lines += ["", "### Findings", ""]
    if analysis.findings:
        lines.append(
            "| # | verdict | level | finding | cases | explains | where | first evidence |"
        )
        lines.append("|---|---|---|---|---|---|---|---|")
        for number, finding in enumerate(analysis.findings[:MAX_FINDINGS], start=1):
            first = _cell(finding.first.message) if finding.first else ""
            lines.append(
                f"| {number} | {finding.verdict} | {finding.level} | `{finding.id}`: "
                f"{_cell(finding.title)} | {len(finding.cases)} | {len(finding.consequences)} | "
                f"{_scope(finding)} | {first} |"
            )
        if len(analysis.findings) > MAX_FINDINGS:
            lines.append("")
            lines.append(f"… and {len(analysis.findings) - MAX_FINDINGS} more in report.html.")
    else:
        lines.append("No findings: nothing failed or warned.")
    lines += ["", f"### Not exercised ({counts['not_exercised']})", ""]
    outside = sum(n for _, n in analysis.not_exercised)
    under = counts["not_exercised"] - outside
    if under:
        lines.append(f"{under} of them are counted under a finding above (blocked or cut).")
    if analysis.not_exercised:
        lines += ["", "| cases | top reasons |", "|---|---|"]
        for reason, number in analysis.not_exercised[:5]:
            lines.append(f"| {number} | {_cell(reason)} |")
    lines += ["", "[report.html](report.html) · [report.json](report.json) · junit.xml", ""]
    return "\n".join(lines)


def _capability_markdown(analysis: Analysis) -> list[str]:
    caps = analysis.capabilities
    if not caps.streams and not caps.features:
        return ["### Capabilities", "", "No stream connection was recorded."]
    transports = sorted({t for cells in caps.streams.values() for t in cells})
    names = {"sse": "SSE", "ws": "WebSocket"}
    lines = ["### Capabilities", ""]
    if caps.streams:
        lines.append("| stream | " + " | ".join(names.get(t, t) for t in transports) + " |")
        lines.append("|---" * (len(transports) + 1) + "|")
        for stream, cells in list(caps.streams.items())[:16]:
            row = [cells[t].symbol if t in cells else "" for t in transports]
            lines.append(f"| {stream} | " + " | ".join(row) + " |")
    if caps.features:
        lines.append("")
        lines.append(" · ".join(f"{name} {a.symbol}" for name, a in caps.features.items()))
    return lines
