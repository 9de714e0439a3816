"""The live run: the plan (what to open, what to stimulate) and the session that records and
judges it. ``plan_cases`` is pure (collection time); ``run_session`` does all the I/O once.

The runner is imported lazily: it needs the judges, and the delivery judge needs the plan, so
an eager import here would be circular.
"""

from typing import Any

from conformance.session.plan import PlannedCase, plan_cases


def __getattr__(name: str) -> Any:
    if name in ("SessionOutcome", "run_session"):
        from conformance.session import runner

        return getattr(runner, name)
    raise AttributeError(name)


__all__ = ["PlannedCase", "SessionOutcome", "plan_cases", "run_session"]
