"""The plan: deterministic ids, enough cases, every stream on both transports, sound barriers."""

from __future__ import annotations

from conformance.config import Settings
from conformance.session.plan import (
    EXTRA_ARRIVALS,
    STEPS,
    STREAM_NAMES,
    barrier_for,
    connections,
    delivery_cases,
    expected_events,
    group_of,
    plan_cases,
    plan_meta,
)


def test_plan_is_deterministic_and_ids_unique() -> None:
    first = plan_cases(Settings())
    second = plan_cases(Settings())
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
    assert not any("{" in c.id for c in first), "placeholders must never enter an id"


def test_plan_size_meets_the_catalogue_target() -> None:
    cases = plan_cases(Settings())
    assert len(cases) >= 150
    assert len({c.requirement for c in cases}) >= 60
    own = delivery_cases()
    assert len(own) >= 150
    assert len({c.requirement for c in own}) >= 25


def test_every_stream_value_on_both_transports() -> None:
    keys = {c.key for c in connections(Settings())}
    for name in STREAM_NAMES:
        assert f"sse-{name}" in keys and f"ws-{name}" in keys
    ws_streams = {
        dict(c.params).get("stream")
        for c in connections(Settings())
        if c.transport == "ws" and c.matrix
    }
    assert ws_streams == set(STREAM_NAMES)
    assert len(STREAM_NAMES) == 12


def test_long_cases_are_planned_with_and_without_long() -> None:
    plain = {c.id: c for c in plan_cases(Settings())}
    long = {c.id: c for c in plan_cases(Settings(long=True))}
    assert set(plain) == set(long)
    keepalive = plain["ws.ping.server-keepalive[ws-long-server-ping]"]
    assert keepalive.needs == frozenset({"long"})
    assert "ws.ping.no-pong-terminated[ws-long-no-pong]" in plain
    # the probe sockets plan only their own requirement
    assert not [cid for cid in plain if cid.endswith("[ws-long-server-ping]") and "ping" not in cid]
    conns = {c.key: c for c in connections(Settings(ping_timeout_s=2.5))}
    meta = plan_meta(conns["ws-long-no-pong"], Settings(ping_timeout_s=2.5))
    assert meta.context["answer_pings"] is False and meta.context["long"] is True
    assert meta.context["ping_timeout_s"] == 2.5


def test_binary_probe_and_revocable_contexts_are_explicit() -> None:
    conns = {c.key: c for c in connections(Settings())}
    assert conns["ws-close-binary"].context(heartbeat_timeout_s=1.0)["send_binary"] is True
    for key in ("sse-user-revocable", "ws-user-revocable"):
        assert conns[key].context(heartbeat_timeout_s=1.0)["expect_close"] is True
    assert "expect_close" not in conns["sse-user"].context(heartbeat_timeout_s=1.0)
    ids = {c.id for c in plan_cases(Settings())}
    assert "ws.close.binary-1003[ws-close-binary]" in ids


def test_every_absence_check_has_a_later_barrier() -> None:
    for step in STEPS:
        for stream in step.absent:
            barrier = barrier_for(step.key, stream)
            assert barrier is not None, f"{step.key} on {stream} has no barrier"
            keys = [s.key for s in STEPS]
            assert keys.index(barrier) > keys.index(step.key)
        for key in step.extra_absent_keys:
            assert barrier_for(step.key, key) in EXTRA_ARRIVALS


def test_expected_events_follow_the_steps() -> None:
    conns = {c.key: c for c in connections(Settings())}
    assert "conversation" in expected_events(conns["sse-direct"], Settings())
    assert "notification" in expected_events(conns["ws-user:notification"], Settings())
    assert "filters_changed" not in expected_events(conns["sse-user"], Settings())
    assert expected_events(conns["sse-err-missing-token"], Settings()) == []
    assert expected_events(conns["sse-public"], Settings(read_only=True)) == []


def test_groups_map_to_case_modules() -> None:
    assert group_of("sse.framing.utf8") == "sse_framing"
    assert group_of("sse.heartbeat.interval") == "heartbeat"
    assert group_of("ws.multiplex.no-duplicates") == "websocket"
    assert group_of("delivery.delete.everywhere") == "delivery"


def test_read_only_plans_the_observation_case() -> None:
    ids = {c.id for c in plan_cases(Settings(read_only=True))}
    assert "delivery.read-only.observed[sse-public]" in ids
    assert "delivery.read-only.observed[sse-public]" not in {c.id for c in plan_cases(Settings())}
