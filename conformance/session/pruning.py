"""The session's side of stimulus pruning: describe the run to ``matrix.pruning.prune_steps``.

The pure function needs the selected cases (the plan minus ``--exclude``, into which ``-k``'s
deselection is already folded by ``SuiteRun.session_settings``), every planned connection with
the streams it hears, the events its selected per-event cases read and whether the selection
keeps it (``opening.fully_excluded``: a connection that failed to open still observes, so
nothing but the selection changes what a run stimulates), and which steps the run can attempt.
Called once, after the connections opened and before the warm-up; the result is kept in
``LiveRun.pruned`` (saved in ``RunContext.pruned``).
"""

from __future__ import annotations

from conformance.judge import planned_results
from conformance.matrix.keys import OTHER_TAG_KEY
from conformance.matrix.pruning import NO_OBSERVER_OPEN, Listener, Pruning, prune_steps
from conformance.matrix.steps import WARMUP, Step, steps_for
from conformance.matrix.streams import TAG
from conformance.selection import id_glob, matches_any
from conformance.session.opening import fully_excluded
from conformance.session.plan import Connection, connections, plan_meta
from conformance.session.state import LiveRun
from conformance.stimulus.base import Driver


def hears(conn: Connection) -> frozenset[str]:
    """The stream names whose stimulated events reach ``conn`` (none for the idle, mixed-case
    and other-tag subscriptions: the plan's steps post on the run's own tag)."""
    if conn.role == "mux":
        return frozenset(dict(sub)["stream"] for sub in conn.subscriptions)
    if conn.purpose != "stream" or conn.stream is None or conn.key == OTHER_TAG_KEY:
        return frozenset()
    if dict(conn.params).get("tag", TAG) != TAG:
        return frozenset()
    return frozenset({conn.stream})


def prune_for_selection(run: LiveRun, driver: Driver) -> Pruning:
    """Which steps this run stimulates; records the pruned ones' reasons in ``run.pruned``."""
    settings = run.settings
    globs = [id_glob(p) for p in settings.exclude]
    selected = [c for c in run.cases if not matches_any(globs, c.id, c.requirement)]
    chosen = {c.id for c in selected}
    # Observers are the connections the selection keeps: one that failed to open (a server
    # fault) still counts, so a run's stimulus and verdicts change only by what was selected.
    closed = fully_excluded(connections(settings), run.cases, settings.exclude)
    listeners: dict[str, Listener] = {}
    for conn in connections(settings):
        events = frozenset(
            p.event
            for p in planned_results(plan_meta(conn, settings))
            if p.event and p.id in chosen
        )
        listeners[conn.key] = Listener(hears(conn), events, open=conn.key not in closed)

    def runnable(step: Step) -> bool:
        return (
            step.needs <= run.available
            and step.key not in run.gated
            and driver.supports(step.scenario)
        )

    steps = steps_for(settings)
    pruning = prune_steps(steps, WARMUP, selected, listeners, runnable)
    # A step the run cannot make anyway keeps its own, more telling reason (the need it lacks,
    # the driver's answer): stimulation records it without a request.
    cannot = {s.key for s in steps if not runnable(s)}
    run.pruned = {
        key: why
        for key, why in pruning.pruned.items()
        if not (why == NO_OBSERVER_OPEN and key in cannot)
    }
    return pruning


__all__ = ["hears", "prune_for_selection"]
