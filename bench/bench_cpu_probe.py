"""pytest plugin for ``bench_startup.py``: the suite process's CPU time inside and outside the
live session, written as JSON to ``$MSC_BENCH_CPU_FILE``.

Why: on a loaded machine wall time says little; CPU time does not depend on the load. The
fixed overhead's CPU is the suite process's CPU minus what it spent in the live session
(``SuiteRun.outcome``: connections and stimulation), where judging the transcripts
(``judge_run``, after the last byte) counts as overhead like the wall figure does; so does the
CPU of the forked helpers that judge and write reports on the other core (``helpers``). Loaded with
``run ... -- -p bench_cpu_probe`` and ``bench/`` on ``PYTHONPATH``; never by the product.
"""

from __future__ import annotations

import json
import os
import resource
from pathlib import Path
from typing import Any

_spent: dict[str, float] = {"session": 0.0, "judging": 0.0}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pytest_configure(config: Any) -> None:
    import conformance.session.runner as runner
    from conformance.run import SuiteRun

    judge_run = runner.judge_run

    def judged(*args: Any, **kwargs: Any) -> Any:
        start = _cpu()
        try:
            return judge_run(*args, **kwargs)
        finally:
            _spent["judging"] += _cpu() - start

    runner.judge_run = judged

    original = SuiteRun.outcome

    def outcome(self: SuiteRun) -> Any:
        if self._outcome is not None or self._session_error is not None:
            return original(self)
        self.target()  # discovery belongs to the overhead, not the session
        start = _cpu()
        try:
            return original(self)
        finally:
            _spent["session"] += _cpu() - start

    SuiteRun.outcome = outcome  # type: ignore[method-assign]


def pytest_unconfigure(config: Any) -> None:
    target = os.environ.get("MSC_BENCH_CPU_FILE")
    if target:
        total = _cpu()
        session = _spent["session"] - _spent["judging"]
        from conformance import parallel

        figures = {
            "total": total,
            "session": session,
            "judging": _spent["judging"],
            "helpers": parallel.helper_cpu_s(),  # forked helpers (judging, reports): other core
        }
        Path(target).write_text(json.dumps(figures), encoding="utf-8")
