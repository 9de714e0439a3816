"""The findings and capability sections of report.html, as plain data for the template.

Kept apart from ``html.py`` (which lays out the matrix and the cases) so each stays small.
Text from the server (messages, evidence) is shortened here and escaped by the template.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from conformance.findings import Analysis
from conformance.verdicts import Verdict, severity_rank

__all__ = ["capabilities_view", "findings_view"]

_MAX_CONSEQUENCES = 400
_MAX_FIRST_EVIDENCE = 600


def findings_view(
    analysis: Analysis,
    anchors: Mapping[str, str],
    *,
    labels: Mapping[str, str],
    short: Callable[[str], str],
    visible: Callable[[str], str],
) -> list[dict[str, Any]]:
    """``labels``, ``short`` and ``visible`` are html.py's verdict labels and text helpers
    (passed in, so this module does not import html.py, which imports it)."""
    out = []
    for number, finding in enumerate(analysis.findings, start=1):
        first = finding.first
        evidence = first.evidence if first is not None else None
        if evidence is not None:
            evidence = visible(evidence[:_MAX_FIRST_EVIDENCE]) + (
                "…" if len(evidence) > _MAX_FIRST_EVIDENCE else ""
            )
        groups = finding.consequence_groups()
        out.append(
            {
                "number": number,
                "f": finding,
                "anchor": f"finding-{number}",
                "first_anchor": anchors.get(first.case, "") if first is not None else "",
                "first_short": short(first.message) if first is not None else "",
                "first_evidence": evidence,
                "groups": ", ".join(f"{req} ×{n}" for req, n in groups[:4])
                + (f", +{len(groups) - 4} more" if len(groups) > 4 else ""),
                "counts": ", ".join(
                    f"{n} {labels[v]}"
                    for v, n in sorted(
                        finding.consequence_counts.items(),
                        key=lambda kv: severity_rank(Verdict(kv[0])),
                    )
                ),
                "consequences": [
                    (c, anchors.get(c.id, "")) for c in finding.consequences[:_MAX_CONSEQUENCES]
                ],
                "more": max(0, len(finding.consequences) - _MAX_CONSEQUENCES),
                "req_href": f"req={quote(finding.requirement, safe='')}",
            }
        )
    return out


def capabilities_view(analysis: Analysis) -> dict[str, Any]:
    caps = analysis.capabilities
    transports = sorted({t for cells in caps.streams.values() for t in cells})
    return {
        "transports": transports,
        "names": {"sse": "SSE", "ws": "WebSocket"},
        "rows": [
            (stream, [cells.get(t) for t in transports]) for stream, cells in caps.streams.items()
        ],
        "features": list(caps.features.items()),
        "summary": list(caps.transports.items()),
    }
