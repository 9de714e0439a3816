"""Timing margins: the heartbeat tolerance is explicit and scales with --timeout-multiplier."""

from __future__ import annotations

import transcript_builders as b

from conformance.judge import judge_transcript
from conformance.verdicts import Verdict

TIMEOUT = {"heartbeat_timeout_s": 4.0}


def _heartbeat(gap: float, tolerance: float | None) -> Verdict:
    context = dict(TIMEOUT)
    if tolerance is not None:
        context["heartbeat_tolerance_s"] = tolerance
    tr = b.sse([(0.02, b":)\n"), (0.02 + gap, b":thump\n\n")], end_t=0.02 + gap, context=context)
    (result,) = [r for r in judge_transcript(tr) if r.requirement == "sse.heartbeat.within-timeout"]
    return result.verdict


def test_a_silence_just_over_the_timeout_is_within_the_margin() -> None:
    assert _heartbeat(4.1, None) is Verdict.PASS  # the proxy-split case of issue 10
    assert _heartbeat(4.9, 1.0) is Verdict.PASS
    assert _heartbeat(5.2, 1.0) is Verdict.FAIL


def test_the_margin_scales_with_the_timeout_multiplier() -> None:
    assert _heartbeat(5.2, 3.0) is Verdict.PASS  # --timeout-multiplier 3
    assert _heartbeat(4.5, 0.3) is Verdict.FAIL  # --timeout-multiplier 0.3


def test_the_opening_context_carries_the_scaled_margin() -> None:
    from conformance.judge.heartbeat import HEARTBEAT_TOLERANCE_S

    assert HEARTBEAT_TOLERANCE_S > 0
