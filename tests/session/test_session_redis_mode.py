"""--stimulus redis against the reference server in --bus redis mode: the notifications-merged
step is planned and judged, and the whole run has no fail or error."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from conformance.config import Settings
from conformance.discovery import discover
from conformance.embedded import start_embedded
from conformance.session import run_session
from conformance.session.plan import plan_cases
from conformance.verdicts import Verdict

pytestmark = pytest.mark.redis

MERGED = "delivery.notifications-merged.arrives"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server binary not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)  # polling a child's startup: no event to wait on
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(5)


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
