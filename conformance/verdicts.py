"""Verdicts, requirement levels and the Result every check produces: the one verdict algebra.

Kept in one small module because everything (judges, plugin, reports, replay, ``--repeat``)
speaks it, and its JSON form is the ``report.json`` contract: renaming a value here breaks users'
tooling.

**The severity order** (``SEVERITY``, worst first) is the only one in the suite::

    fail > error > warn > not_exercised > info > pass

* ``fail`` outranks ``error``: an observed violation stays true whatever else went wrong.
* ``not_exercised`` sits *above* ``pass`` and ``info``: when several verdicts are summarised
  (a report cell, the repeats of one case) a case that could not be exercised must never hide
  behind a pass -- not_exercised is never a pass.

**Two operations** use that order:

* ``worst(verdicts)``: plain severity (report cells, ``--repeat`` merging).
* ``aggregate(verdicts)``: folding the *observations* of one case (several events, several
  stimulus steps, the same case judged on two transcripts). ``not_exercised`` there means "this
  observation saw nothing", not a statement about the server, so it counts only when nothing was
  exercised at all; otherwise the worst exercised verdict wins.

``level_verdict(level, observed)`` maps an observation onto a requirement level (``None`` =
"violated": fail for MUST, warn for SHOULD, info below; INFO requirements never pass or fail).
``planned_result`` / ``not_exercised_result`` / ``error_result`` build Results for a planned case
(the caller passes the level, ``conformance.requirements.level_of``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Protocol


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


#: Worst first; the one severity order of the suite (see the module docstring).
SEVERITY: tuple[Verdict, ...] = (
    Verdict.FAIL,
    Verdict.ERROR,
    Verdict.WARN,
    Verdict.NOT_EXERCISED,
    Verdict.INFO,
    Verdict.PASS,
)
_RANK = {verdict: rank for rank, verdict in enumerate(SEVERITY)}


def severity_rank(verdict: Verdict) -> int:
    """0 for the worst verdict (fail); sort keys use this."""
    return _RANK[verdict]


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The most severe verdict (``not_exercised`` for an empty input)."""
    return min(verdicts, key=severity_rank, default=Verdict.NOT_EXERCISED)


def aggregate(verdicts: Iterable[Verdict]) -> Verdict:
    """The verdict of one case from its observations: the worst exercised verdict, or
    ``not_exercised`` when no observation exercised anything."""
    seen = list(verdicts)
    exercised = [v for v in seen if v is not Verdict.NOT_EXERCISED]
    return worst(exercised) if exercised else Verdict.NOT_EXERCISED


def worst_result(results: Sequence[Result]) -> Result:
    """The result with the worst verdict (the earliest among equals)."""
    return min(results, key=lambda r: severity_rank(r.verdict))


def aggregate_results(first: Result, second: Result) -> Result:
    """Of two Results for one case id, the one ``aggregate`` picks (the first among equals)."""
    return second if aggregate([first.verdict, second.verdict]) is not first.verdict else first


def verdict_for_violation(level: Level) -> Verdict:
    """A broken MUST fails, a broken SHOULD warns, anything weaker is information."""
    if level is Level.MUST:
        return Verdict.FAIL
    if level is Level.SHOULD:
        return Verdict.WARN
    return Verdict.INFO


def level_verdict(level: Level, observed: Verdict | None) -> Verdict:
    """An observation's verdict under a requirement level: ``None`` means violated; an INFO
    requirement only ever informs (its pass, warn or fail is ``info``)."""
    verdict = observed if observed is not None else verdict_for_violation(level)
    if level is Level.INFO and verdict in (Verdict.PASS, Verdict.WARN, Verdict.FAIL):
        return Verdict.INFO
    return verdict


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """One judged case.

    ``id`` is the stable case id: ``<requirement id>[<params>]``, e.g.
    ``sse.framing.blank-line-terminates-event[sse-public:local]``. ``message`` says expected vs
    observed; ``evidence`` holds the raw bytes or frame involved (already redacted).
    ``transcript`` names the transcript (or capture) that was judged. ``cause``, when set, is
    the requirement id whose check owns what went wrong (a delivery that failed because the
    event arrived renamed names ``events.name.known``): reports lead with the cause.
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
    cause: str | None = None  # a case or requirement id that explains this result (findings)

    def to_json(self) -> dict[str, Any]:
        # Every field is a str, None or a str enum: no ``asdict`` deep copy (~1000 per report).
        out = {name: getattr(self, name) for name in _RESULT_FIELDS}
        out["verdict"] = self.verdict.value
        out["level"] = self.level.value
        return out


_RESULT_FIELDS = tuple(f.name for f in fields(Result))


def summarise(results: list[Result]) -> dict[str, int]:
    counts = dict.fromkeys(SUMMARY_KEYS, 0)
    for result in results:
        counts[result.verdict.value] += 1
    return counts


class CaseLike(Protocol):
    """What a planned case offers to build its Result (``matrix.PlannedCase`` satisfies it)."""

    id: str
    requirement: str
    transport: str | None
    stream: str | None
    event: str | None


def planned_result(
    case: CaseLike,
    verdict: Verdict,
    message: str,
    *,
    level: Level,
    evidence: str | None = None,
    transcript: str | None = None,
    cause: str | None = None,
) -> Result:
    """A Result for a planned case at its requirement's ``level``
    (``conformance.requirements.level_of``: this module stays below the registry)."""
    return Result(
        id=case.id,
        requirement=case.requirement,
        verdict=verdict,
        level=level,
        message=message,
        transport=case.transport,
        stream=case.stream,
        event=case.event,
        evidence=evidence,
        transcript=transcript,
        cause=cause,
    )


def not_exercised_result(case: CaseLike, reason: str, *, level: Level) -> Result:
    """The run could not cause or observe what the case judges, and says why."""
    return planned_result(case, Verdict.NOT_EXERCISED, reason, level=level)


def error_result(case: CaseLike, message: str, *, level: Level) -> Result:
    """A harness-side problem for one case: never the server's fault, never a fail."""
    return planned_result(case, Verdict.ERROR, message, level=level)
