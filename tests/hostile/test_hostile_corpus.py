"""A whole run against each hostile-server mode ends in fail or error, bounded, with no traceback.

Each mode of ``hostile_server.py`` is one misbehaviour (silence, trickle, endless line, 64 MiB
event, floods, redirect loop, JSON bomb, invalid UTF-8, NUL bytes, broken chunking, header
flood, reset, and WebSocket ping flood, endless fragments, oversized frame, reserved opcode).
The installed command runs against it in a subprocess with short deadlines; the run must exit 1
or 2 with the suite's own summary (never a Python traceback), within a bounded wall time, with
peak RSS under 300 MiB. ``bench/bench_hostile.py`` prints the same runs' figures.

The runs are separate processes that mostly wait out their deadlines, so one module fixture runs
them ``MSC_HOSTILE_CONCURRENCY`` at a time (default 4) and each parametrised test judges its own
mode's outcome: every run keeps its own wall-time bound and its own peak RSS (``getrusage`` of
that run's process tree).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hostile_server import MODES
from hostile_support import SUITE_TRACEBACK, RunOutcome, crafted_server, run_suite
from timing import scaled

#: The first test's setup runs every mode (each killed at its own bound): longer than the global
#: 300 s pytest-timeout of one self-test only if several runs hang.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(scaled(900))]

#: Peak RSS allowed for a whole run, whatever the server sends (issue: bounded resources).
MAX_RSS_MIB = 300
#: Wall-time bound per run: the short deadlines below plus start-up, judging and a margin for a
#: loaded 2-core machine (scaled by MSC_TEST_TIME_SCALE).
MAX_WALL_S = 150.0
#: Runs at once. Most of a run is waiting (deadlines, heartbeat windows); the flood modes are
#: CPU-bound but stop at the recorder's byte and count bounds.
CONCURRENCY = max(1, int(os.environ.get("MSC_HOSTILE_CONCURRENCY", "4")))


def _one(mode: str, report_dir: Path) -> RunOutcome | str:
    try:
        with crafted_server("hostile_server.py", "--mode", mode) as url:
            return run_suite(url, report_dir, bound_s=MAX_WALL_S)
    except Exception as exc:  # reported by this mode's test, not by every test of the module
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RunOutcome | str]]:
    base = tmp_path_factory.mktemp("hostile")
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        futures = {mode: pool.submit(_one, mode, base / mode / "report") for mode in MODES}
        yield {mode: future.result() for mode, future in futures.items()}


@pytest.mark.parametrize("mode", list(MODES))
def test_run_survives_hostile_server(mode: str, outcomes: dict[str, RunOutcome | str]) -> None:
    outcome = outcomes[mode]
    assert not isinstance(outcome, str), f"{mode}: {outcome}"
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
