"""Stimulus pruning: run only the steps some selected case on an opened connection observes.

``-k`` and ``--exclude`` narrow the cases a run reports; without pruning the stimulus still
made every REST write of the plan (posts, follows, favourites, filters, a token revocation ...)
for cases nobody looks at. ``prune_steps`` is a pure function over the step table, the selected
cases and the connections (opened or not); the session calls it once, before the warm-up.

What observes a step (the same mapping the delivery judge reads, ``judge/delivery.py``):

* a delivery case on an opened connection: the steps it judges (arrival, absence, once, payload
  equality, case-insensitive hashtag, revocation); an absence also needs its *barrier*
  (``barrier_for``: the later step whose arrival proves the must-not), else it is unproven;
* a multiplexing case: ``delivers-each`` and ``no-duplicates`` need one step that reaches the
  subscription (the first runnable one is kept), the unsubscribe cases need ``P`` (the
  unsubscribe follows it) and one later step on that stream; a lateness case
  (``delivery.latency.within-deadline``) times whatever of ours arrived: one step its
  connection hears;
* a per-event case (``payload.schema.valid[sse-user-notification]``) on an opened connection:
  every step whose event it names and which reaches that connection, exactly as a full run;
* any other check of an opened stream (framing, WebSocket messages) reads whatever arrives:
  the warm-up, kept for every opened subscription, gives it events.

Dependencies stay: ``@KEY.role`` parameters (a favourite needs the status it favourites) and
every ``targets`` alternative (an edit or delete acts on ``P`` or ``PR``). A pruned step keeps
a reason, recorded as its ``StepOutcome`` and in ``RunContext.pruned``: ``deselected: ...``
when no selected case observes it, ``not run: ...`` when its observers' connections are not
open; its cases are then deselected or ``not_exercised`` with that reason, never pass or fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from conformance.matrix.cases import PlannedCase
from conformance.matrix.keys import (
    HASHTAG_CASE_KEYS,
    MUX_SUBSCRIPTIONS,
    MUX_UNSUBSCRIBED,
    OTHER_TAG_KEY,
)
from conformance.matrix.steps import EXTRA_ARRIVALS, ONCE, Step, barrier_for

#: The multiplexed socket's key (``session/plan/connections.py``).
MUX_KEY = "ws-multiplex"
#: The step after which the multiplexed socket unsubscribes (``session/stimulation.py``).
MUX_CUT = "P"

#: ``judge.delivery_latency.LATENCY`` (the judges sit above this package)
LATENCY = "delivery.latency.within-deadline"

DESELECTED = "deselected: no selected case observes this step"
NO_OBSERVER_OPEN = "not run: no connection that observes this step is open"
WARMUP_UNUSED = "deselected: none of the subscriptions it warms up is open"


@dataclass(frozen=True, slots=True)
class Listener:
    """A planned connection as pruning sees it.

    ``streams``: the stream names whose events reach it (a multiplexed socket: its
    subscriptions; the other-tag stream: none, it hears only ``EXTRA_ARRIVALS``);
    ``events``: the event names its *selected* per-event cases read; ``open``: whether the run
    keeps it (the session: not closed by the selection); a closed one observes nothing.
    """

    streams: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()
    open: bool = True


@dataclass(frozen=True, slots=True)
class Pruning:
    """The steps to run, in table order, and why each other one does not run."""

    steps: tuple[Step, ...]
    warmup: tuple[Step, ...]
    pruned: dict[str, str] = field(default_factory=dict)


#: ("all", keys): every step needed; ("any", keys): one of them is enough (first runnable).
Need = tuple[str, tuple[str, ...]]


def prune_steps(
    steps: Iterable[Step],
    warmup: Iterable[Step],
    selected: Iterable[PlannedCase],
    listeners: Mapping[str, Listener],
    runnable: Callable[[Step], bool] | None = None,
) -> Pruning:
    """Keep the steps the selected cases observe on opened connections, and what they need.

    ``steps`` is the run's step table (``steps_for``), ``listeners`` every planned connection
    by key, ``runnable`` says which steps the run can attempt at all (needs, driver): a case
    that is satisfied by any one of several steps gets the first runnable one.
    """
    steps = tuple(steps)
    cases = tuple(selected)
    opened = {k: v for k, v in listeners.items() if v.open}
    kept = _wanted(steps, cases, opened, runnable)
    wanted_if_open = _wanted(
        steps, cases, {k: Listener(v.streams, v.events) for k, v in listeners.items()}, runnable
    )
    pruned: dict[str, str] = {}
    for step in steps:
        if step.key not in kept:
            pruned[step.key] = NO_OBSERVER_OPEN if step.key in wanted_if_open else DESELECTED
    heard = set().union(*(v.streams for v in opened.values())) if opened else set()
    warm: list[Step] = []
    for step in warmup:
        if heard & set(step.arrive):
            warm.append(step)
        else:
            pruned[step.key] = WARMUP_UNUSED
    return Pruning(tuple(s for s in steps if s.key in kept), tuple(warm), pruned)


def _wanted(
    steps: tuple[Step, ...],
    cases: tuple[PlannedCase, ...],
    opened: Mapping[str, Listener],
    runnable: Callable[[Step], bool] | None,
) -> set[str]:
    """The keys of the steps the cases need on these (opened) connections, closed under
    dependencies."""
    by_key = {s.key: s for s in steps}
    needs: list[Need] = []
    for case in cases:
        needs.extend(case_needs(case, steps, opened))
    for key, listener in opened.items():
        for event in sorted(listener.events):
            heard = tuple(s.key for s in steps if s.event == event and _hears(key, listener, s))
            if heard:
                needs.append(("all", heard))
    kept: set[str] = set()
    for mode, keys in needs:
        if mode == "all":
            kept |= {k for k in keys if k in by_key}
    kept = _closure(kept, by_key)
    for mode, keys in needs:
        present = [k for k in keys if k in by_key]
        if mode != "any" or not present or kept & set(present):
            continue
        ok = [k for k in present if runnable is None or runnable(by_key[k])]
        kept = _closure(kept | {(ok or present)[0]}, by_key)
    return kept


def _hears(key: str, listener: Listener, step: Step) -> bool:
    return bool(listener.streams & set(step.arrive)) or key in EXTRA_ARRIVALS.get(step.key, ())


def _closure(kept: set[str], by_key: Mapping[str, Step]) -> set[str]:
    """``kept`` plus every step a kept step refers to (``@KEY.role`` params, ``targets``)."""
    out, todo = set(kept), list(kept)
    while todo:
        step = by_key.get(todo.pop())
        if step is None:
            continue
        for dep in dependencies(step):
            if dep in by_key and dep not in out:
                out.add(dep)
                todo.append(dep)
    return out


def dependencies(step: Step) -> tuple[str, ...]:
    """The earlier steps whose outcome ``step`` needs to run at all."""
    refs = [
        value[1:].partition(".")[0]
        for _name, value in step.params
        if isinstance(value, str) and value.startswith("@")
    ]
    return (*refs, *step.targets)


def case_needs(
    case: PlannedCase, steps: tuple[Step, ...], opened: Mapping[str, Listener]
) -> list[Need]:
    """The steps one selected delivery or multiplexing case judges, if its connection is open
    (other cases name no step: ``prune_steps`` reads their events from the listeners)."""
    req, transport, stream = case.requirement, str(case.transport), str(case.stream)
    key = f"{transport}-{stream}"
    if req.startswith("ws.multiplex."):
        return _mux_needs(req, stream, steps) if MUX_KEY in opened else []
    if not req.startswith("delivery."):
        return []
    if req == LATENCY:  # every event of ours on that connection is timed: one is enough
        conn = case.id.partition("[")[2].rstrip("]")
        heard = opened.get(conn)
        if heard is None:
            return []
        return [("any", tuple(s.key for s in steps if s.match != "end" and _hears(conn, heard, s)))]
    if req == "delivery.payload.matches-rest":
        public = stream.startswith(("public", "hashtag"))
        return [("all", ("P",) if public else ("P", "PR"))] if key in opened else []
    if req in ONCE.values():
        step_key = next(k for k, r in ONCE.items() if r == req)
        return [("all", (step_key,))] if key in opened else []
    if req == "delivery.hashtag.case-insensitive":
        return [("all", ("P",))] if HASHTAG_CASE_KEYS.get(transport) in opened else []
    if req == "delivery.token-revoke.ends-stream":
        return [("all", ("TR",))] if f"{transport}-user-revocable" in opened else []
    out: list[Need] = []
    for step in steps:
        if req == "delivery.other-tag.arrives" and step.key in EXTRA_ARRIVALS:
            if OTHER_TAG_KEY in opened:
                out.append(("all", (step.key,)))
        elif req == "delivery.other-tag.excluded" and OTHER_TAG_KEY in step.extra_absent_keys:
            if OTHER_TAG_KEY in opened:
                out.append(("all", _with_barrier(step, OTHER_TAG_KEY)))
        elif step.requirement == req and stream in step.arrive:
            if key in opened:
                out.append(("all", (step.key,)))
        elif step.absent_requirement == req and stream in step.absent and key in opened:
            out.append(("all", _with_barrier(step, stream)))
    return out


def _with_barrier(step: Step, target: str) -> tuple[str, ...]:
    """An absence is judged once the barrier arrived: it needs the barrier as well."""
    barrier = barrier_for(step.key, target)
    return (step.key,) if barrier is None else (step.key, barrier)


def _mux_needs(req: str, stream: str, steps: tuple[Step, ...]) -> list[Need]:
    """The multiplexing cases (``DeliveryJudge.mux_*``): one update on the subscription before
    or after the unsubscribe; the unsubscribe cases also need the step it follows."""
    keys = [s.key for s in steps]
    cut = keys.index(MUX_CUT) if MUX_CUT in keys else len(keys)

    def updates(after: bool) -> tuple[str, ...]:
        return tuple(
            s.key
            for i, s in enumerate(steps)
            if s.event == "update"
            and stream in s.arrive
            and not s.arrive_from
            and (i > cut) == after
        )

    mux_streams = {dict(s)["stream"] for s in MUX_SUBSCRIPTIONS}
    if req == "ws.multiplex.delivers-each" and stream in mux_streams:
        after = () if stream == MUX_UNSUBSCRIBED else updates(True)
        return [("any", (*updates(False), *after))]
    if req == "ws.multiplex.no-duplicates" and stream in mux_streams:
        return [("any", tuple(s.key for s in steps if s.match != "end" and stream in s.arrive))]
    if req in ("ws.multiplex.unsubscribe-stops", "ws.multiplex.unsubscribe-keeps-others"):
        return [("all", (MUX_CUT,)), ("any", updates(True))]
    return []


__all__ = [
    "DESELECTED",
    "NO_OBSERVER_OPEN",
    "WARMUP_UNUSED",
    "Listener",
    "Pruning",
    "case_needs",
    "dependencies",
    "prune_steps",
]
