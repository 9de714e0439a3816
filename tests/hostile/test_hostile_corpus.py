"""A whole run against each hostile-server mode ends in fail or error, bounded, with no traceback.

Each mode of ``hostile_server.py`` is one misbehaviour (silence, trickle, endless line, 64 MiB
event, floods, redirect loop, JSON bomb, invalid UTF-8, NUL bytes, broken chunking, header
flood, reset, and WebSocket ping flood, endless fragments, oversized frame, reserved opcode).
The installed command runs against it in a subprocess with short deadlines; the run must exit 1
or 2 with the suite's own summary (never a Python traceback), within a bounded wall time, with
peak RSS under 300 MiB. ``bench/bench_hostile.py`` prints the same runs' figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_server import MODES
from hostile_support import SUITE_TRACEBACK, crafted_server, run_suite
from timing import scaled

pytestmark = pytest.mark.slow

#: Peak RSS allowed for a whole run, whatever the server sends (issue: bounded resources).
MAX_RSS_MIB = 300
#: Wall-time bound per run: the short deadlines below plus start-up, judging and a margin for a
#: loaded 2-core machine (scaled by MSC_TEST_TIME_SCALE).
MAX_WALL_S = 150.0


@pytest.mark.parametrize("mode", list(MODES))
def test_run_survives_hostile_server(mode: str, tmp_path: Path) -> None:
    with crafted_server("hostile_server.py", "--mode", mode) as url:
        outcome = run_suite(url, tmp_path / "report", bound_s=MAX_WALL_S)
    output = outcome.stdout + outcome.stderr
    assert outcome.rc is not None, f"{mode}: run still going after {outcome.wall_s:.0f} s"
    assert outcome.rc in (1, 2), f"{mode}: exit {outcome.rc}, expected fail (1) or error (2)"
    assert not SUITE_TRACEBACK.search(output), output[-3000:]
    assert outcome.peak_rss_mib < MAX_RSS_MIB, f"{mode}: peak RSS {outcome.peak_rss_mib:.0f} MiB"
    assert outcome.wall_s < scaled(MAX_WALL_S)
    # A clear message: the run's own summary or one line saying what went wrong.
    last = [line for line in output.splitlines() if line.strip()][-1]
    assert "mastodon-streaming-conformance" in output or "error" in last.lower(), last


def test_every_mode_documented() -> None:
    assert len(MODES) >= 17
    assert all(MODES.values())
