"""--long and the probe sockets: server pings, the no-pong cut, the binary frame, all bounded by
the configured ping timeout (reference server with a 1 s ping interval)."""

from __future__ import annotations

import time

import pytest
from reference_proc import reference_server
from timing import scaled

from conformance.config import Settings
from conformance.discovery import discover
from conformance.session import run_session
from conformance.verdicts import Verdict

KEEPALIVE = "ws.ping.server-keepalive[ws-long-server-ping]"
NO_PONG = "ws.ping.no-pong-terminated[ws-long-no-pong]"
BINARY = "ws.close.binary-1003[ws-close-binary]"


@pytest.mark.slow  # over 5 s: a short and a --long session (8.6 s measured at load 7)
async def test_long_run_judges_pings_within_the_ping_timeout() -> None:
    with reference_server("--heartbeat", "1", "--ping-interval", "1") as ref:
        a, b = ref["accounts"][0], ref["accounts"][1]
        base = Settings(
            target=ref["url"],
            token=a["token"],
            second_token=b["token"],
            heartbeat_timeout_s=1.5,
            stimulus="none",
            ping_timeout_s=2.5,
        )
        target = await discover(base)
        short = await run_session(base, target)
        started = time.monotonic()
        long = await run_session(Settings(**{**base.__dict__, "long": True}), target)
        elapsed = time.monotonic() - started
    for rid in (KEEPALIVE, NO_PONG):
        assert short.results[rid].verdict is Verdict.NOT_EXERCISED
        assert "needs --long" in short.results[rid].message
    assert long.results[KEEPALIVE].verdict is Verdict.PASS, long.results[KEEPALIVE].message
    no_pong = long.results[NO_PONG]
    assert no_pong.verdict is Verdict.INFO and "disconnected" in no_pong.message
    for outcome in (short, long):
        assert outcome.results[BINARY].verdict is Verdict.INFO
        assert "1003" in outcome.results[BINARY].message
    # everything waits concurrently: about one ping timeout (x2 for the cut), not one per case
    assert elapsed < scaled(2 * 2.5 + 6.0)
    long_ids = {r.id for r in long.extra_results}
    assert "ws.frame.text[ws-long-server-ping]" not in long.results
    assert not [r for r in long.extra_results if r.verdict is Verdict.NOT_EXERCISED], long_ids
    bad = [r.id for r in long.results.values() if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    assert bad == []
