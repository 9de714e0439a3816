"""--stimulus redis against the reference server in --bus redis mode: the notifications-merged
step is planned and judged, and the whole run has no fail or error."""

from __future__ import annotations

import pytest

from conformance.config import Settings
from conformance.discovery import discover
from conformance.embedded import start_embedded
from conformance.session import run_session
from conformance.session.plan import plan_cases
from conformance.verdicts import Verdict

pytestmark = pytest.mark.redis

MERGED = "delivery.notifications-merged.arrives"


def test_merged_step_is_planned_only_for_the_redis_driver() -> None:
    rest = {c.requirement for c in plan_cases(Settings())}
    via_redis = {c.requirement for c in plan_cases(Settings(stimulus="redis"))}
    assert MERGED not in rest and MERGED in via_redis


async def test_redis_mode_session_judges_notifications_merged(redis_url: str) -> None:
    server = start_embedded(heartbeat_s=1, bus="redis", redis_url=redis_url)
    try:
        alice, bob = server.accounts[0], server.accounts[1]
        settings = Settings(
            target=server.url,
            token=alice.token,
            second_token=bob.token,
            stimulus="redis",
            redis_url=redis_url,
            account_id=alice.id,
            second_account_id=bob.id,
            list_id=str(server.lists[0]["id"]),
            heartbeat_timeout_s=1.5,
        )
        outcome = await run_session(settings, await discover(settings, embedded=True))
    finally:
        server.stop()
    merged = [r for r in outcome.results.values() if r.requirement == MERGED]
    assert len(merged) == 4
    assert all(r.verdict is Verdict.PASS for r in merged), [r.message for r in merged]
    bad = [r.id for r in outcome.results.values() if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    assert bad == []
    assert outcome.stimuli is not None
    publishes = [r for r in outcome.stimuli.records if r.fields["action"] == "redis-publish"]
    assert any(r.fields["detail"]["event"] == "notifications_merged" for r in publishes)
