"""``--repeat N``: fold N independent sessions into one honest set of results.

A conformance verdict that changes between identical runs is itself a finding (practice 9:
FLAKY). Rather than invent a seventh verdict (``report.json`` consumers know six), each case
keeps its *worst* observed verdict, so a case that failed once still fails the run, and carries
the sequence it went through; a case whose verdicts differ is flagged flaky. Pure: results in,
merged results out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from conformance.verdicts import Result, worst_result

__all__ = ["RepeatMerge", "merge_results", "worst"]

#: The worst result of one case across repeats, by the one severity order
#: (``verdicts.SEVERITY``: a real ``fail`` outranks a harness ``error``, and a repeat that could
#: not exercise a case outranks one that passed it, so the merge never hides it).
worst = worst_result


@dataclass
class RepeatMerge:
    """Merged results, and per result id the verdict of each repeat that produced it."""

    results: dict[str, Result] = field(default_factory=dict)
    extra_results: list[Result] = field(default_factory=list)
    history: dict[str, list[str]] = field(default_factory=dict)

    @property
    def flaky(self) -> dict[str, list[str]]:
        return {rid: seq for rid, seq in self.history.items() if len(set(seq)) > 1}


def _fold(runs: Sequence[Sequence[Result]]) -> tuple[dict[str, Result], dict[str, list[str]]]:
    seen: dict[str, list[Result]] = {}
    for results in runs:
        for result in results:
            seen.setdefault(result.id, []).append(result)
    merged: dict[str, Result] = {}
    history: dict[str, list[str]] = {}
    for rid, observed in seen.items():
        chosen = worst(observed)
        sequence = [r.verdict.value for r in observed]
        if len(set(sequence)) > 1:
            chosen = replace(chosen, message=f"flaky ({', '.join(sequence)}): {chosen.message}")
        merged[rid] = chosen
        history[rid] = sequence
    return merged, history


def merge_results(
    planned: Sequence[Mapping[str, Result]], extras: Sequence[Sequence[Result]] = ()
) -> RepeatMerge:
    """Fold each repeat's planned results (by case id) and extra results into one set.

    An extra observation seen in only some repeats keeps the verdicts of the repeats that saw
    it; it is flaky only if those differ (absence is not a verdict).
    """
    results, history = _fold([list(r.values()) for r in planned])
    extra, extra_history = _fold(extras)
    for rid, sequence in extra_history.items():
        history.setdefault(rid, sequence)
    return RepeatMerge(results=results, extra_results=list(extra.values()), history=history)
