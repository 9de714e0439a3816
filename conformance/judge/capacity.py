"""One finding for an overloaded server, instead of an error for every connection it refused.

A connection whose setup was given up is normally the environment's failure (``error``). When
several were given up because the server answered 429/502/503/504 or stopped accepting, the
cause is the server's capacity: the run reports that once (``http.concurrency.capacity``, with
how many connections it did serve) and those connections' cases are ``not_exercised`` pointing
at it, so a report shows one clear finding rather than 140 errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from conformance.judge.engine import planned_results
from conformance.matrix.run_context import RunContext
from conformance.requirements import level_of
from conformance.transcript.model import Transcript
from conformance.verdicts import Result, Verdict, verdict_for_violation

REQUIREMENT = "http.concurrency.capacity"
#: Given-up setups from overload needed before the run blames capacity (one could be a blip).
MIN_REFUSED = 3
_OVERLOAD = re.compile(r"\b(429|502|503|504)\b|connect (failed|timeout)|timed out", re.I)


def overloaded(setup_failures: Mapping[str, str]) -> dict[str, str]:
    """The given-up setups whose reason is overload (None of them when fewer than MIN_REFUSED)."""
    found = {k: v for k, v in setup_failures.items() if _OVERLOAD.search(v)}
    return found if len(found) >= MIN_REFUSED else {}


def capacity_finding(
    results: dict[str, Result],
    by_key: Mapping[str, Transcript],
    context: RunContext,
    extras: list[Result] | None = None,
) -> tuple[list[Result], set[str]]:
    """(the run-level finding, the connection keys it explains); nothing when not overloaded.
    The explained connections' planned results (and ``extras``) become not_exercised."""
    refused = overloaded(context.setup_failures)
    if not refused:
        return [], set()
    served = sum(1 for k, t in by_key.items() if k not in refused and t.head is not None)
    level = level_of(REQUIREMENT)
    first = next(iter(refused.values()))
    message = (
        f"expected every connection answered; observed the server refuse or drop "
        f"{len(refused)} of {len(refused) + served} connections under load after serving "
        f"{served} ({first}); refused: {', '.join(sorted(refused)[:10])}"
        + (" ..." if len(refused) > 10 else "")
    )
    finding = Result(
        id=f"{REQUIREMENT}[run]",
        requirement=REQUIREMENT,
        verdict=verdict_for_violation(level),
        level=level,
        message=message,
    )
    for key in refused:
        transcript = by_key.get(key)
        if transcript is None:
            continue
        ids = {p.id for p in planned_results(transcript.meta)}
        for rid, result in list(results.items()):
            if rid in ids or result.transcript == key:
                results[rid] = _explained(result, key, refused[key])
    for i, result in enumerate(extras or []):
        if result.transcript in refused:
            extras[i] = _explained(result, result.transcript, refused[result.transcript])  # type: ignore[index]
    return [finding], set(refused)


def _explained(result: Result, key: str, why: str) -> Result:
    return replace(
        result,
        verdict=Verdict.NOT_EXERCISED,
        message=f"{key} not served: the server was over capacity (see {REQUIREMENT}[run]): {why}",
        transcript=key,
        cause=REQUIREMENT,
    )
