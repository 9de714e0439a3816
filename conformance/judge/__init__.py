"""Pure judges: (Transcript) -> [Result], shared by live runs and offline replay.

Importing the package registers every check module in it (like ``conformance.requirements``).
Public surface: ``judge_run`` (the one pipeline, ``judge.pipeline``), ``judge_transcript``,
``planned_results`` (per-transcript cases of a meta) and ``planned_run_results`` (the run-level
cases of a run's metas). How to write a check: ``conformance.judge.registry``.
"""

from __future__ import annotations

import importlib
import pkgutil

from conformance.judge.engine import (
    PlannedResult,
    judge_transcript,
    planned_results,
    planned_run_results,
)
from conformance.judge.pipeline import judge_run

_INFRA = frozenset({"registry", "context", "engine", "pipeline"})


def _load_checks() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_") and info.name not in _INFRA:
            importlib.import_module(f"{__name__}.{info.name}")


_load_checks()

__all__ = [
    "PlannedResult",
    "judge_run",
    "judge_transcript",
    "planned_results",
    "planned_run_results",
]
