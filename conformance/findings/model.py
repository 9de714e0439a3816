"""The data a findings analysis produces: findings, their consequences, and capabilities.

Plain frozen dataclasses with a ``to_json`` each, because ``report.json`` carries them
(``findings[]`` and ``capabilities``, documented in ``schemas/run-report.schema.json``) and the
reports (terminal, ``summary.md``, ``report.html``, ``compare``) all read the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Analysis", "Availability", "Capabilities", "Consequence", "Evidence", "Finding"]

#: Capability states: offered, not offered (404 / unknown stream), refused (another status or
#: an error frame), not observed (no transcript answered the question).
YES, NO, REFUSED, UNKNOWN = "yes", "no", "refused", "unknown"


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether the target offers one thing, with the status or frame that says so."""

    state: str
    status: int | None = None
    detail: str = ""
    transcripts: tuple[str, ...] = ()

    @property
    def symbol(self) -> str:
        """The capability-table cell: ✓, ✗ (with the status), refused N, or ? (not observed)."""
        if self.state == YES:
            return "✓"
        if self.state == NO:
            return f"✗ {self.status}" if self.status is not None else "✗"
        if self.state == REFUSED:
            return f"refused {self.status}" if self.status is not None else "refused"
        return "?"

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "status": self.status,
            "detail": self.detail,
            "symbol": self.symbol,
            "transcripts": list(self.transcripts),
        }


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the target offers, read from the recorded transcripts before any verdict.

    ``streams[stream][transport]`` (transport ``sse`` / ``ws``), ``transports[transport]`` and
    ``features[name]`` (``health``, ``ws multiplexing``, ``ws error frames``, ``sse token:
    header`` ...).
    """

    streams: dict[str, dict[str, Availability]] = field(default_factory=dict)
    transports: dict[str, Availability] = field(default_factory=dict)
    features: dict[str, Availability] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "transports": {k: v.to_json() for k, v in self.transports.items()},
            "streams": {
                stream: {t: a.to_json() for t, a in cells.items()}
                for stream, cells in self.streams.items()
            },
            "features": {k: v.to_json() for k, v in self.features.items()},
        }


@dataclass(frozen=True, slots=True)
class Evidence:
    """The first evidence of a finding: which case, which transcript, when, what bytes."""

    case: str
    transcript: str | None
    t: float | None
    message: str
    evidence: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "transcript": self.transcript,
            "t": self.t,
            "message": self.message,
            "evidence": self.evidence,
        }


@dataclass(frozen=True, slots=True)
class Consequence:
    """A case explained by a finding: counted under it, not as a failure of its own."""

    id: str
    requirement: str
    verdict: str
    because: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "requirement": self.requirement,
            "verdict": self.verdict,
            "because": self.because,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One root cause: a requirement broken (``kind`` ``requirement``) or a transport or
    stream the target does not offer (``kind`` ``capability``).

    ``cases`` are the cases that show the cause itself; ``consequences`` the cases it explains
    (their own verdicts unchanged, but listed here and not as separate failures).
    """

    id: str
    kind: str
    requirement: str
    level: str
    verdict: str
    title: str
    cases: tuple[str, ...]
    transports: tuple[str, ...]
    streams: tuple[str, ...]
    first: Evidence | None
    consequences: tuple[Consequence, ...] = ()

    @property
    def consequence_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.consequences:
            counts[item.verdict] = counts.get(item.verdict, 0) + 1
        return counts

    def consequence_groups(self) -> list[tuple[str, int]]:
        """(requirement, number of cases) of the consequences, most first."""
        counts: dict[str, int] = {}
        for item in self.consequences:
            counts[item.requirement] = counts.get(item.requirement, 0) + 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "requirement": self.requirement,
            "level": self.level,
            "verdict": self.verdict,
            "title": self.title,
            "count": len(self.cases),
            "cases": list(self.cases),
            "transports": list(self.transports),
            "streams": list(self.streams),
            "first_evidence": self.first.to_json() if self.first is not None else None,
            "explained_count": len(self.consequences),
            "explained_verdicts": self.consequence_counts,
            "explains": [c.to_json() for c in self.consequences],
        }


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the reports lead with: findings (worst first), capabilities, and which
    finding each case belongs to (``by_case``: case id -> finding id)."""

    findings: tuple[Finding, ...]
    capabilities: Capabilities
    by_case: dict[str, str]
    not_exercised: tuple[tuple[str, int], ...] = ()

    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict in ("fail", "error")]
