"""One multiplier for every timing in the self-tests.

Why: on a loaded 2-core machine a test that passes alone can miss a deadline (issue 12:
``./scripts/test.sh`` failed with 1 and 4 timeouts). Every deadline, timeout and window a
self-test uses goes through ``scaled(seconds)``, so ``MSC_TEST_TIME_SCALE=3`` gives every one of
them three times as long, and ``scripts/test-loaded.sh`` sets it while two CPU burners run.
A value that is not a positive number is an error, not silently 1.
"""

from __future__ import annotations

import os

__all__ = ["ENV", "scaled", "time_scale"]

ENV = "MSC_TEST_TIME_SCALE"


def time_scale() -> float:
    """The multiplier (default 1.0)."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{ENV}={raw!r}: expected a positive number") from None
    if value <= 0:
        raise ValueError(f"{ENV}={raw!r}: expected a positive number")
    return value


def scaled(seconds: float) -> float:
    """``seconds`` times the multiplier: every self-test deadline goes through this."""
    return seconds * time_scale()
