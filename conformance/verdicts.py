"""Verdicts, requirement levels and the Result every check produces.

Kept in one small module because everything (judges, plugin, reports, replay) speaks it, and
its JSON form is the ``report.json`` contract: renaming a value here breaks users' tooling.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    """How binding a requirement is (RFC 2119 words, plus INFO for what is only observed)."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"
    INFO = "INFO"


class Verdict(StrEnum):
    """The outcome of one case.

    ``not_exercised`` means the run could not cause or observe what the case judges; it is never
    a pass. ``error`` means the suite or the environment failed, not the server.
    """

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    INFO = "info"
    NOT_EXERCISED = "not_exercised"
    ERROR = "error"


SUMMARY_KEYS = ("pass", "fail", "warn", "info", "not_exercised", "error")


def verdict_for_violation(level: Level) -> Verdict:
    """A broken MUST fails, a broken SHOULD warns, anything weaker is information."""
    if level is Level.MUST:
        return Verdict.FAIL
    if level is Level.SHOULD:
        return Verdict.WARN
    return Verdict.INFO


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """One judged case.

    ``id`` is the stable case id: ``<requirement id>[<params>]``, e.g.
    ``sse.framing.blank-line-terminates-event[sse-public:local]``. ``message`` says expected vs
    observed; ``evidence`` holds the raw bytes or frame involved (already redacted).
    ``transcript`` names the transcript (or capture) that was judged.
    """

    id: str
    requirement: str
    verdict: Verdict
    level: Level
    message: str
    transport: str | None = None
    stream: str | None = None
    event: str | None = None
    evidence: str | None = None
    transcript: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["verdict"] = self.verdict.value
        out["level"] = self.level.value
        return out


def summarise(results: list[Result]) -> dict[str, int]:
    counts = dict.fromkeys(SUMMARY_KEYS, 0)
    for result in results:
        counts[result.verdict.value] += 1
    return counts
