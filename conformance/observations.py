"""Checks on traffic the plan did not name, folded into one case per connection.

Why: judging a live run yields more Results than the plan names (a payload that arrived on a
stream the plan expected nothing of is still schema-checked; about 110 of ~990 on the embedded
server). Pytest can only count items it collected before the session ran, so those Results
made pytest's counts (874) disagree with report.json (987), and a failing one gave exit 1
while pytest said "all passed". The decision (docs/ARCHITECTURE.md, "Selection and counts"):
**one pytest item is one reported case**. Each planned connection gets one more case,
``observed[<connection key>]``, collected like any other (so ``-k``/``--exclude`` select it);
its verdict is the worst of the unplanned Results on that connection, its message names the
ones that are not pass/info, and report.json keeps every unplanned Result in detail under
``observations``. Unplanned Results that name no planned connection fold into
``observed[run]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from conformance.matrix.cases import PlannedCase
from conformance.verdicts import SEVERITY, Level, Result, Verdict, aggregate, severity_rank

__all__ = [
    "OBSERVED",
    "RUN_KEY",
    "by_observed_case",
    "connection_of",
    "fold",
    "fold_run",
    "observation_cases",
]

#: The requirement id of the folded cases (not a registry requirement: a container).
OBSERVED = "observed"
RUN_KEY = "run"
_LISTED = 5
_LEVELS = (Level.MUST, Level.SHOULD, Level.MAY, Level.INFO)


def observation_cases(keys: Iterable[str]) -> list[PlannedCase]:
    """One folded case per connection key, plus ``observed[run]``."""
    out = []
    for key in [*sorted(set(keys)), RUN_KEY]:
        transport = key.split("-", 1)[0] if "-" in key else None
        out.append(
            PlannedCase(
                id=f"{OBSERVED}[{key}]",
                requirement=OBSERVED,
                group=OBSERVED,
                transport=transport,
                stream=None,
                event=None,
            )
        )
    return out


def connection_of(result_id: str, keys: Sequence[str]) -> str:
    """The connection key an unplanned Result belongs to: its id parameter is the key or
    starts with it and ``-`` (the longest such key); ``run`` when none matches."""
    if not result_id.endswith("]") or "[" not in result_id:
        return RUN_KEY
    param = result_id[result_id.find("[") + 1 : -1]
    best = RUN_KEY
    for key in keys:
        if (param == key or param.startswith(key + "-")) and (
            best == RUN_KEY or len(key) > len(best)
        ):
            best = key
    return best


def by_observed_case(results: Iterable[Result], keys: Sequence[str]) -> dict[str, list[Result]]:
    """The unplanned Results grouped by the ``observed[<key>]`` case that folds them, in order.

    Why: one pass for a whole run. Asking ``connection_of`` per folded case and per Result was
    cases x results x keys string tests (~150 x 200 x 150 on the embedded server, ~0.5 s of CPU
    at the end of every run). Same answer as ``connection_of``: the longest key that is the id
    parameter or a ``-``-separated prefix of it, found by set lookups of those prefixes.
    """
    known = frozenset(keys)
    groups: dict[str, list[Result]] = {}
    for result in results:
        groups.setdefault(f"{OBSERVED}[{_key_of(result.id, known)}]", []).append(result)
    return groups


def _key_of(result_id: str, known: frozenset[str]) -> str:
    if not result_id.endswith("]") or "[" not in result_id:
        return RUN_KEY
    param = result_id[result_id.find("[") + 1 : -1]
    cut = len(param)
    while cut > 0:
        if param[:cut] in known:
            return param[:cut]
        cut = param.rfind("-", 0, cut)
    return RUN_KEY


def fold(case: PlannedCase, extras: Sequence[Result], unopened: str | None = None) -> Result:
    """The folded Result of one ``observed[...]`` case over its unplanned Results;
    ``unopened`` is why its connection was never opened (``RunContext.unjudged``), so the case
    says that rather than "no check beyond the plan" about traffic that never was."""
    key = case.id[len(OBSERVED) + 1 : -1]
    if not extras:
        return Result(
            id=case.id,
            requirement=OBSERVED,
            verdict=Verdict.INFO,
            level=Level.INFO,
            message=unopened or f"no check beyond the plan on {key}",
            transport=case.transport,
        )
    verdict = aggregate(r.verdict for r in extras)
    bad = sorted(
        (r for r in extras if r.verdict in (Verdict.FAIL, Verdict.ERROR, Verdict.WARN)),
        key=lambda r: (severity_rank(r.verdict), r.id),
    )
    counts = {v: sum(1 for r in extras if r.verdict is v) for v in SEVERITY}
    tally = ", ".join(f"{n} {v.value}" for v, n in counts.items() if n)
    message = f"{len(extras)} check(s) beyond the plan on {key}: {tally}"
    if bad:
        shown = "; ".join(f"{r.id} [{r.level.value}]: {r.message}" for r in bad[:_LISTED])
        more = f"; ... {len(bad) - _LISTED} more in report.json" if len(bad) > _LISTED else ""
        message += f". {shown}{more}"
    worst_level = min((r.level for r in (bad or extras)), key=_LEVELS.index, default=Level.INFO)
    return Result(
        id=case.id,
        requirement=OBSERVED,
        verdict=verdict,
        level=worst_level,
        message=message,
        transport=case.transport,
        evidence=bad[0].evidence if bad else None,
        transcript=bad[0].transcript if bad else None,
    )


def fold_run(
    results: Sequence[Result],
    planned: Iterable[str],
    keys: Sequence[str],
    unjudged: Mapping[str, str] | None = None,
) -> tuple[list[Result], list[Result]]:
    """Replay's side of the same decision: the planned Results in order, then one folded
    ``observed[<key>]`` case per connection (and ``observed[run]``); second, the unplanned
    Results in detail (report.json ``observations``)."""
    planned_ids = set(planned)
    kept = [r for r in results if r.id in planned_ids]
    extras = [r for r in results if r.id not in planned_ids]
    groups = by_observed_case(extras, keys)
    why = unjudged or {}
    folded = [
        fold(case, groups.get(case.id, []), why.get(case.id)) for case in observation_cases(keys)
    ]
    return kept + folded, extras
