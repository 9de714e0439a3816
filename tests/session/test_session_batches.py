"""--max-connections bounds the connections OPEN at once: held streams run in batches, and the
verdicts equal the unbounded run's (issue 10 item 8)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from reference_proc import reference_server

from conformance.config import Settings
from conformance.config_values import parse_max_connections
from conformance.discovery import discover
from conformance.judge import judge_run
from conformance.matrix.delivery_log import DeliveryLog, StepOutcome
from conformance.matrix.run_context import RunContext
from conformance.matrix.steps import STEPS, WARMUP
from conformance.matrix.stimulus_log import build_stimulus_log, saved_run
from conformance.session import run_session
from conformance.session.batches import batch_steps, observed_by, plan_batches
from conformance.session.opening import is_one_shot
from conformance.session.plan import connections
from conformance.stimulus.base import Produced
from conformance.transcript.model import Transcript
from conformance.verdicts import Verdict

#: ``Meta.started_at`` has millisecond precision: intervals are trimmed by this much at each
#: end before counting overlaps, so a connection opened in the millisecond another closed in
#: is not counted as open beside it.
CLOCK_SLACK_S = 0.001


def _held(settings: Settings) -> list[Any]:
    return [c for c in connections(settings) if not is_one_shot(c)]


def test_a_full_run_holds_44_streams_and_the_default_fits_them_in_one_batch() -> None:
    held = _held(Settings(long=True))
    assert len(held) == 44
    assert len(plan_batches(held, Settings().max_connections)) == 1


def test_batches_are_bounded_and_keep_the_revocable_streams_together() -> None:
    held = _held(Settings())
    for limit in (2, 3, 8, 15, 41):
        batches = plan_batches(held, limit)
        assert all(len(b) <= limit for b in batches)
        assert [c.key for b in batches for c in b] == [c.key for c in held]
        homes = {i for i, b in enumerate(batches) for c in b if c.role == "revocable"}
        assert len(homes) == 1, (limit, homes)
    assert len(plan_batches(held, 8)) == 6


def test_a_batch_runs_the_steps_its_streams_observe_and_what_they_refer_to() -> None:
    by_key = {c.key: c for c in connections(Settings())}
    seen = observed_by([by_key["sse-direct"]])
    assert {"D", "DN"} & {s.key for s in batch_steps(STEPS, seen)} == {"D"}
    assert [s.key for s in batch_steps(WARMUP, seen)] == ["W-direct"]
    notes = {s.key for s in batch_steps(STEPS, observed_by([by_key["sse-user:notification"]]))}
    assert {"F", "RB"} <= notes and "O" in notes  # F and RB act on O's status
    user = {s.key for s in batch_steps(STEPS, observed_by([by_key["sse-user-revocable"]]))}
    assert "TR" in user
    assert "TR" not in {s.key for s in batch_steps(STEPS, observed_by([by_key["sse-public"]]))}


def test_parse_max_connections_needs_room_for_the_revocable_pair() -> None:
    assert parse_max_connections("2") == 2
    with pytest.raises(ValueError):
        parse_max_connections("1")


def test_batch_outcomes_survive_the_stimulus_log() -> None:
    first = StepOutcome("P", Produced("status.public", "m1", ids={"status": "1"}))
    later = {"P": StepOutcome("P", Produced("status.public", "m2", ids={"status": "2"}))}
    log = DeliveryLog(outcomes={"P": first}, batches={"sse-user": later, "ws-user": later})
    saved = saved_run(build_stimulus_log(log, [], context=RunContext()))
    assert saved.log.outcome_for("P", "sse-public") == first
    for key in ("sse-user", "ws-user"):
        got = saved.log.outcome_for("P", key)
        assert got is not None and got.produced is not None and got.produced.marker == "m2"


def most_open_at_once(transcripts: Iterable[Transcript]) -> int:
    """From each transcript's start time and record times: the most connections that were open
    (first record .. end record) at the same moment."""
    edges: list[tuple[float, int]] = []
    for t in transcripts:
        if not t.records or t.meta.started_at is None:
            continue
        start = dt.datetime.fromisoformat(t.meta.started_at).timestamp()
        times = [r.t for r in t.records]
        opened, ended = start + min(times) + CLOCK_SLACK_S, start + max(times) - CLOCK_SLACK_S
        if ended > opened:
            edges += [(opened, 1), (ended, -1)]
    most = now = 0
    for _, step in sorted(edges):  # at a tie the close (-1) sorts first
        now += step
        most = max(most, now)
    return most


@pytest.fixture
def servers() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """An unlimited reference server and a small one that refuses streams beyond 10."""
    with (
        reference_server("--heartbeat", "1") as big,
        reference_server("--heartbeat", "1", "--max-connections", "10") as small,
    ):
        yield big, small


def _settings(line: dict[str, Any], limit: int) -> Settings:
    a, b = line["accounts"][0], line["accounts"][1]
    return Settings(
        target=line["url"],
        token=a["token"],
        second_token=b["token"],
        heartbeat_timeout_s=2.5,
        max_connections=limit,
    )


@pytest.mark.slow
async def test_a_bounded_run_never_opens_more_and_judges_alike(
    servers: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    big, small = servers
    free_settings = _settings(big, 200)
    free = await run_session(free_settings, await discover(free_settings))
    bound_settings = _settings(small, 8)
    bound = await run_session(bound_settings, await discover(bound_settings))

    assert most_open_at_once(free.transcripts) > 40  # the check can see a flood
    assert most_open_at_once(bound.transcripts) <= 8
    assert any("in 6 batches" in n for n in bound.notes), bound.notes

    def verdicts(outcome: Any) -> dict[str, Verdict]:
        return {r.id: r.verdict for r in [*outcome.results.values(), *outcome.extra_results]}

    got, want = verdicts(bound), verdicts(free)
    assert got == want, {
        k: (got.get(k), want.get(k)) for k in {*got, *want} if got.get(k) != want.get(k)
    }
    assert Verdict.FAIL not in got.values() and Verdict.ERROR not in got.values()
    assert not [r for r in bound.extra_results if r.requirement == "http.concurrency.capacity"]

    # the saved stimulus log (its batches) gives replay the same verdicts
    saved = saved_run(bound.stimuli)
    again = judge_run({t.meta.id: t for t in bound.transcripts}, saved.log, saved.context)
    assert {r.id: r.verdict for r in again} == got
