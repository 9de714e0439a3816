"""The live run: the plan (what to open, what to stimulate) and the session that records and
judges it. ``plan_cases`` is pure (collection time); ``run_session`` does all the I/O once.
"""

from conformance.matrix.cases import PlannedCase
from conformance.session.plan import plan_cases
from conformance.session.runner import SessionOutcome, run_session

__all__ = ["PlannedCase", "SessionOutcome", "plan_cases", "run_session"]
