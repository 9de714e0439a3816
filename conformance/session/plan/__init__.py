"""What a live run opens and what it stimulates, as data tables.

Everything here is pure and deterministic: the same ``Settings`` give the same connections, the
same stimulus steps and the same case ids, so pytest can collect the cases before anything
touches the network. Values only known at run time (the random run tag, the list id, minted
tokens) appear as placeholders (``{tag}``, ``{list}``, ``{other_tag}``) and are resolved by the
runner; they never enter an id.

Viewer: every delivery connection is opened with ``--token`` (account A). The stimulus steps
(``STEPS``) say, per scenario, which streams must carry the event and which must not; a
must-not is judged once a later step's event arrives on that stream (its *barrier*), which the
plan computes, so no check ever sleeps.

The tables the judges also read (streams, connection keys, stimulus steps and barriers,
``PlannedCase``) live below both in ``conformance.matrix``; this package holds ``connections``
(what is recorded), ``delivery_cases`` (cases and expected events derived from the steps) and
``cases`` (every planned case id), and re-exports the matrix names the session uses.
"""

from __future__ import annotations

from conformance.matrix.cases import PlannedCase
from conformance.matrix.keys import (
    HASHTAG_CASE_KEYS,
    MUX_SUBSCRIPTIONS,
    MUX_UNSUBSCRIBED,
    OTHER_TAG_KEY,
)
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
from conformance.matrix.streams import (
    LIST,
    MIXED_TAG,
    OTHER_TAG,
    STREAM_NAMES,
    STREAMS,
    TAG,
)
from conformance.session.plan.cases import group_of, plan_cases, plan_meta
from conformance.session.plan.connections import Connection, connections
from conformance.session.plan.delivery_cases import delivery_cases, expected_events

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
    "Connection",
    "PlannedCase",
    "Step",
    "barrier_for",
    "connections",
    "delivery_cases",
    "expected_events",
    "group_of",
    "plan_cases",
    "plan_meta",
    "steps_for",
]
