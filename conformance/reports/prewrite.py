"""Writing a run's reports while pytest is still reporting its cases.

Why: once the live session has judged, every case's Result is known, but pytest still walks
~1000 items to report them one by one (~0.2 s) before ``finish`` writes the reports (~0.15 s),
both on the run's critical path. The reports are a pure function of data already in memory, so
a forked child (``conformance/parallel.py``) can write them meanwhile from the Results the
per-case protocol is about to record, and ``finish`` only has to collect them.

The child's work is used only if ``finish`` would write exactly the same thing: the same
write arguments apart from ``duration_s``, and a run that was not interrupted. Anything else
(``-x`` stopped early, Ctrl-C, a Result that differs, the child failing) drops the child's work
and ``finish`` writes the reports itself, over whatever the child wrote: a prewrite costs time
when it misses, never a report. ``duration_s`` in a prewritten report is the run's wall time
until its Results were final (the per-case protocol after that only prints them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from conformance.parallel import Background, in_background

__all__ = ["Prewrite"]

#: Write arguments that may differ between the prewrite and ``finish`` (the clock moved on).
_TIMING = frozenset({"duration_s"})


class Prewrite:
    """One background write of a run's reports (``start``), collected by ``take``."""

    def __init__(self) -> None:
        self._kwargs: dict[str, Any] | None = None
        self._work: Background | None = None

    def start(self, write: Callable[..., dict[str, Path]], kwargs: Mapping[str, Any]) -> bool:
        """Start ``write(**kwargs)`` in a forked child; False if it could not start."""
        self.drop()
        work = in_background(lambda: write(**kwargs))
        if work is None:
            return False
        self._kwargs, self._work = dict(kwargs), work
        return True

    def take(self, kwargs: Mapping[str, Any]) -> dict[str, Path] | None:
        """The prewritten paths if the prewrite wrote what ``kwargs`` asks for, else None (the
        child's work is dropped: the caller writes the reports itself)."""
        expected, work = self._kwargs, self._work
        self._kwargs, self._work = None, None
        if work is None or expected is None:
            return None
        if not _same(expected, kwargs):
            work.abandon()
            return None
        ok, paths = work.result()
        return paths if ok and isinstance(paths, dict) else None

    def drop(self) -> None:
        """Forget a prewrite that will not be taken (idempotent)."""
        work, self._work, self._kwargs = self._work, None, None
        if work is not None:
            work.abandon()


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    keys = (set(a) | set(b)) - _TIMING
    return all(k in a and k in b and _equal(a[k], b[k]) for k in keys)


def _equal(x: Any, y: Any) -> bool:
    # Results and transcripts are mostly the very same objects (identity short-cuts ==).
    return x is y or x == y
