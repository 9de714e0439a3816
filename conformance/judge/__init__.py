"""Pure judges: (Transcript) -> [Result], shared by live runs and offline replay.

Importing the package registers every check module in it (like ``conformance.requirements``);
``planned_results`` and ``judge_transcript`` are the whole public surface. How to write a check:
``conformance.judge.registry``.
"""

from __future__ import annotations

import importlib
import pkgutil

from conformance.judge.engine import PlannedResult, judge_transcript, planned_results

_INFRA = frozenset({"registry", "context", "engine"})


def _load_checks() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_") and info.name not in _INFRA:
            importlib.import_module(f"{__name__}.{info.name}")


_load_checks()

__all__ = ["PlannedResult", "judge_transcript", "planned_results"]
