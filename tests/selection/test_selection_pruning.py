"""Stimulus pruning by selection (``conformance/matrix/pruning.py``) over the real step table.

A step runs only when a selected case on an opened connection observes it, and then with every
step it depends on: the status a favourite or an edit acts on, the barrier that proves a
must-not-arrive. The judge's own case-to-step mapping is the reference (every step it judges
for a selected case is kept), and a pruned step's cases are not_exercised "deselected", never
pass and never fail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import pytest

from conformance.config import Settings
from conformance.judge import planned_results
from conformance.judge.delivery import _steps_for_case, judge_delivery
from conformance.matrix.cases import PlannedCase
from conformance.matrix.delivery_log import DeliveryLog, StepOutcome
from conformance.matrix.pruning import (
    DESELECTED,
    NO_OBSERVER_OPEN,
    WARMUP_UNUSED,
    Listener,
    Pruning,
    prune_steps,
)
from conformance.matrix.steps import STEPS, WARMUP, barrier_for, steps_for
from conformance.session.plan import connections, plan_cases, plan_meta
from conformance.session.pruning import hears, prune_for_selection
from conformance.session.state import LiveRun
from conformance.verdicts import Verdict

SETTINGS = Settings()
PLAN = plan_cases(SETTINGS)
BY_ID = {c.id: c for c in PLAN}
#: connection -> (streams it hears, its planned per-event cases as (id, event))
CONNS = {
    conn.key: (
        hears(conn),
        [(p.id, p.event) for p in planned_results(plan_meta(conn, SETTINGS)) if p.event],
    )
    for conn in connections(SETTINGS)
}


def prune(
    selected: Iterable[PlannedCase],
    *,
    closed: Iterable[str] = (),
    runnable: Callable | None = None,
) -> Pruning:
    """Prune for ``selected`` with every planned connection open except ``closed``."""
    selected = list(selected)
    ids = {c.id for c in selected}
    listeners = {}
    for conn in connections(SETTINGS):
        events = frozenset(
            p.event for p in planned_results(plan_meta(conn, SETTINGS)) if p.event and p.id in ids
        )
        listeners[conn.key] = Listener(hears(conn), events, open=conn.key not in set(closed))
    return prune_steps(steps_for(SETTINGS), WARMUP, selected, listeners, runnable)


def kept(pruning: Pruning) -> set[str]:
    return {s.key for s in pruning.steps}


def only(*case_ids: str) -> list[PlannedCase]:
    return [BY_ID[i] for i in case_ids]


def test_the_whole_plan_runs_every_step() -> None:
    pruning = prune(PLAN)
    assert [s.key for s in pruning.steps] == [s.key for s in steps_for(SETTINGS)]
    assert pruning.warmup == WARMUP and pruning.pruned == {}


def test_nothing_selected_runs_nothing() -> None:
    pruning = prune([])
    assert pruning.steps == () and pruning.warmup == WARMUP  # every subscription is open
    assert set(pruning.pruned.values()) == {DESELECTED}


def test_a_favourite_keeps_the_status_it_favourites() -> None:
    pruning = prune(only("delivery.favourite.notifies[sse-user:notification-notification]"))
    assert kept(pruning) == {"F", "O"}  # F's params: status_id = @O.status
    assert pruning.pruned["RB"] == DESELECTED


def test_an_edit_keeps_every_status_it_may_act_on() -> None:
    assert kept(prune(only("delivery.edit.status-update[ws-user-status.update]"))) == {
        "E",
        "P",
        "PR",
    }


def test_an_announcement_delete_keeps_the_announcement() -> None:
    case = "delivery.announcement-delete.arrives[sse-user-announcement.delete]"
    assert kept(prune(only(case))) == {"AD", "AN"}


def test_a_must_not_keeps_its_barrier() -> None:
    """P must not reach public:remote; that is proven when R, the barrier, arrived there."""
    assert barrier_for("P", "public:remote") == "R"
    case = "delivery.public-status.excluded[sse-public:remote-update]"
    assert kept(prune(only(case))) == {"P", "R"}


def test_the_other_tag_absence_keeps_its_closing_barrier() -> None:
    assert kept(prune(only("delivery.other-tag.excluded[sse-hashtag-update]"))) == {"P", "ZT"}


def test_a_closed_observer_runs_nothing_and_says_why() -> None:
    case = "delivery.public-status.excluded[sse-public:remote-update]"
    pruning = prune(only(case), closed=["sse-public:remote"])
    assert kept(pruning) == set()
    assert pruning.pruned["P"] == NO_OBSERVER_OPEN
    assert pruning.pruned["R"] == NO_OBSERVER_OPEN
    assert pruning.pruned["U"] == DESELECTED


def test_a_per_event_case_keeps_every_step_that_sends_its_event_there() -> None:
    """A payload case reads every notification on sse-user:notification, as in a full run."""
    case = next(c for c in PLAN if c.id.endswith("[sse-user:notification-notification]"))
    assert not case.requirement.startswith("delivery.")
    assert kept(prune([case])) == {"M", "DN", "F", "RB", "FO", "O"}


def test_multiplexing_keeps_the_unsubscribe_and_one_later_update() -> None:
    case = "ws.multiplex.unsubscribe-stops[ws-public:local]"
    assert kept(prune(only(case))) == {"P", "PM"}
    no_media = prune(only(case), runnable=lambda s: s.key != "PM")
    assert kept(no_media) == {"P", "Z"}  # the first later update the run can make


def test_multiplexing_cases_share_one_step() -> None:
    cases = [c for c in PLAN if c.requirement.startswith("ws.multiplex.")]
    assert cases and kept(prune(cases)) == {"P", "PM"}


def test_warm_up_only_for_open_subscriptions() -> None:
    stream_keys = [c.key for c in connections(SETTINGS) if hears(c)]
    pruning = prune([], closed=[k for k in stream_keys if k != "sse-direct"])
    assert [s.key for s in pruning.warmup] == ["W-direct"]
    assert pruning.pruned["W-mention"] == WARMUP_UNUSED


@pytest.mark.parametrize(
    "case", [c for c in PLAN if c.requirement.startswith("delivery.")], ids=lambda c: c.id
)
def test_every_step_the_judge_reads_for_a_case_is_kept(case: PlannedCase) -> None:
    """The judge's own mapping (``_steps_for_case``), barriers and dependencies included."""
    keys = kept(prune([case]))
    for step, conn_key, kind in _steps_for_case(case):
        assert step.key in keys, (step.key, conn_key)
        if kind != "arrive":
            target = conn_key if kind == "absent-extra" else str(case.stream)
            barrier = barrier_for(step.key, target)
            assert barrier is None or barrier in keys, (step.key, barrier)
        for ref in (v[1:].split(".")[0] for _, v in step.params if str(v).startswith("@")):
            assert ref in keys
        assert set(step.targets) <= keys


def test_cases_of_pruned_steps_are_not_exercised_deselected() -> None:
    """Judged with the pruned outcomes in the log, no case of a pruned step passes or fails."""
    selected = only("delivery.favourite.notifies[sse-user:notification-notification]")
    pruning = prune(selected)
    log = DeliveryLog()
    for step in STEPS:
        if step.key in pruning.pruned:
            log.outcomes[step.key] = StepOutcome(step.key, None, pruning.pruned[step.key])
    pruned_cases = [
        c
        for c in PLAN
        if c.requirement.startswith("delivery.")
        and {s.key for s, _k, _kind in _steps_for_case(c)} <= set(pruning.pruned)
        and any(True for _ in _steps_for_case(c))
    ]
    assert len(pruned_cases) > 50
    results = judge_delivery({}, log, pruned_cases)
    assert {r.verdict for r in results.values()} == {Verdict.NOT_EXERCISED}
    assert all("deselected" in r.message for r in results.values())


class _Driver:
    """Supports every scenario (the run's needs decide)."""

    def supports(self, scenario: str) -> bool:
        return True


def _live_run(settings: Settings) -> LiveRun:
    return LiveRun(
        settings=settings,
        target=None,  # type: ignore[arg-type]  # not read by pruning
        tag="msc0",
        mult=1.0,
        available={"rest", "public-posts", "remote-authors"},
        cases=plan_cases(settings),
    )


def test_the_session_prunes_by_selection_only() -> None:
    """No connection opened (a server that refuses them all): nothing is pruned, the run
    stimulates as it always did; only what the selection drops goes."""
    run = _live_run(SETTINGS)
    pruning = prune_for_selection(run, _Driver())  # type: ignore[arg-type]
    assert run.pruned == {} and pruning.warmup == WARMUP

    run = _live_run(dataclasses.replace(SETTINGS, exclude=("*",)))
    pruning = prune_for_selection(run, _Driver())  # type: ignore[arg-type]
    assert pruning.steps == ()
    assert {k: v for k, v in run.pruned.items() if not k.startswith("W-")} == {
        s.key: DESELECTED for s in steps_for(SETTINGS)
    }
    assert run.pruned["W-direct"] == WARMUP_UNUSED


def test_a_lateness_case_keeps_one_step_its_connection_hears() -> None:
    from conformance.judge.delivery_latency import LATENCY as JUDGED
    from conformance.matrix.pruning import LATENCY

    assert LATENCY == JUDGED
    assert kept(prune(only(f"{LATENCY}[ws-direct]"))) == {"D"}
    assert kept(prune(only(f"{LATENCY}[sse-user:notification]"))) == {"M"}
    assert kept(prune(only(f"{LATENCY}[sse-user]"), closed=["sse-user"])) == set()
