"""The stimulus matrix: what both the live plan and the judges name, below both of them.

``streams`` (the 12 stream values and run-time placeholders), ``keys`` (connection keys and
multiplex subscriptions the delivery judge looks up), ``steps`` (the stimulus-step table,
expectations and barriers), ``cases`` (``PlannedCase``), ``delivery_log`` (``DeliveryLog``,
``StepOutcome``, ``Seen``), ``run_context`` (``RunContext``: what the judges need to know about a
run) and ``stimulus_log`` (their saved form, ``transcripts/_stimuli.jsonl``).

Layering: ``matrix`` imports only ``config`` (the Settings type), ``stimulus.base`` and
``transcript``; the session (``conformance.session``) and the judges (``conformance.judge``)
import it, and the judges never import the session (``tests/architecture/test_import_cycles.py``).
"""

from __future__ import annotations

from conformance.matrix.cases import PlannedCase
from conformance.matrix.delivery_log import DeliveryLog, Seen, StepOutcome
from conformance.matrix.keys import (
    HASHTAG_CASE_KEYS,
    MUX_SUBSCRIPTIONS,
    MUX_UNSUBSCRIBED,
    OTHER_TAG_KEY,
)
from conformance.matrix.run_context import RunContext
from conformance.matrix.steps import (
    EXTRA_ARRIVALS,
    ONCE,
    STEP_BY_KEY,
    STEPS,
    WARMUP,
    Step,
    barrier_for,
    steps_for,
)
from conformance.matrix.streams import LIST, MIXED_TAG, OTHER_TAG, STREAM_NAMES, STREAMS, TAG

__all__ = [
    "EXTRA_ARRIVALS",
    "HASHTAG_CASE_KEYS",
    "LIST",
    "MIXED_TAG",
    "MUX_SUBSCRIPTIONS",
    "MUX_UNSUBSCRIBED",
    "ONCE",
    "OTHER_TAG",
    "OTHER_TAG_KEY",
    "STEPS",
    "STEP_BY_KEY",
    "STREAMS",
    "STREAM_NAMES",
    "TAG",
    "WARMUP",
    "DeliveryLog",
    "PlannedCase",
    "RunContext",
    "Seen",
    "Step",
    "StepOutcome",
    "barrier_for",
    "steps_for",
]
