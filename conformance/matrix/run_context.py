"""What the judges need to know about a run beyond its transcripts and stimulus log.

A live run knows things a transcript does not say: which cases it planned, which connections it
could not open and why, which connection setups it gave up, which needs it could meet, and which
transcripts only the run-level judges read. The session fills a ``RunContext``, the stimulus log
saves it (``matrix.stimulus_log``), and ``judge.pipeline.judge_run`` reads it, so a replayed run
is judged from exactly the facts the live run was.

Every field is structured data; no verdict ever depends on the wording of a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.matrix.cases import PlannedCase

#: Why a case was not judged when nothing more specific is known.
NO_TRANSCRIPT = "no transcript judged this case in this run"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunContext:
    """The judging context of one run.

    ``plan`` None means "no plan" (the shared captures, a bare transcript file): every
    transcript's Results are kept, a repeated id disambiguated as ``id@transcript``. With a plan,
    every planned case gets exactly one Result (observations of one id on several transcripts
    are aggregated; a case nothing judged is ``not_exercised`` with its reason) and other
    observations are extras.
    """

    plan: tuple[PlannedCase, ...] | None = None
    server_version: str | None = None
    #: judge ``--long`` probes (live: the flag; offline: the recording holds what it holds)
    long: bool = True
    #: needs the run could offer (``PlannedCase.needs``); None: unknown
    available: frozenset[str] | None = None
    #: case id -> why it could not be judged (its connection was not opened)
    unjudged: Mapping[str, str] = field(default_factory=dict)
    #: connection key -> why its setup was given up (environment, not server: verdict error)
    setup_failures: Mapping[str, str] = field(default_factory=dict)
    #: transcripts only the run-level checks read (they end on purpose: token revocation)
    run_level_only: frozenset[str] = frozenset()
    #: every connection the run planned, opened or not: the ``observed[<key>]`` cases that fold
    #: the Results no planned case names (``conformance/observations.py``)
    connection_keys: tuple[str, ...] = ()
    #: without a plan: the cases the run-level checks judge (a format-1 stimulus log's
    #: delivery cases); ignored when ``plan`` is given (the plan names them)
    legacy_cases: tuple[PlannedCase, ...] = ()
    #: the run's ``--timeout-multiplier``: run-level timing margins (delivery deadline,
    #: revocation window; ``judge.tolerances``) scale with it, in replay as live
    timeout_multiplier: float = 1.0
    #: stimulus step key -> why it did not run: no selected case on an opened connection
    #: observes it (``matrix/pruning.py``; its StepOutcome carries the same reason)
    pruned: Mapping[str, str] = field(default_factory=dict)
    #: a prebuilt payload validator (None: the judges build the default one); never saved
    validator: Any = None

    def reason_unjudged(self, case: PlannedCase) -> str:
        """Why ``case`` has no Result: its connection's reason, else the first missing need."""
        if case.id in self.unjudged:
            return self.unjudged[case.id]
        if self.available is not None:
            for need in sorted(case.needs):
                if need not in self.available:
                    return f"this run cannot offer {need!r}"
        return NO_TRANSCRIPT


__all__ = ["NO_TRANSCRIPT", "RunContext"]
