"""Where a live session's time goes, phase by phase, and how many connections it held open.

Why: the quick run's target (<= 3 s wall) leaves the session about its network time; this shows
which phase costs what (``SessionOutcome.phase_s``: setup, opening, stimulating, keep-alive
windows, closing, cleanup, judging; per batch when ``--max-connections`` splits the held
streams), the session's CPU time beside its wall time (a loaded machine inflates the wall), and
the most connections open at once, counted from the transcripts' own start and end times.

    .venv/bin/python bench/bench_session_phases.py [--runs 3] [--heartbeat 1]
        [--heartbeat-timeout 2.5] [--max-connections 50]

It starts its own reference server; nothing here asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable

from conformance.config import Settings
from conformance.discovery import discover
from conformance.session import run_session
from conformance.transcript.model import Transcript


def most_open(transcripts: Iterable[Transcript]) -> int:
    """Most connections open (first record .. end) at one moment, 1 ms slack for the
    millisecond start times."""
    edges: list[tuple[float, int]] = []
    for t in transcripts:
        if not t.records or t.meta.started_at is None:
            continue
        start = dt.datetime.fromisoformat(t.meta.started_at).timestamp()
        times = [r.t for r in t.records]
        opened, ended = start + min(times) + 0.001, start + max(times) - 0.001
        if ended > opened:
            edges += [(opened, 1), (ended, -1)]
    most = now = 0
    for _, step in sorted(edges):
        now += step
        most = max(most, now)
    return most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--heartbeat", type=float, default=1.0)
    parser.add_argument("--heartbeat-timeout", type=float, default=2.5)
    parser.add_argument("--max-connections", type=int, default=Settings().max_connections)
    args = parser.parse_args()
    command = [sys.executable, "-m", "conformance.reference", "serve", "--port", "0"]
    server = subprocess.Popen(
        [*command, "--heartbeat", str(args.heartbeat)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert server.stdout is not None
        line = json.loads(server.stdout.readline())
        a, b = line["accounts"][0], line["accounts"][1]
        settings = Settings(
            target=line["url"],
            token=a["token"],
            second_token=b["token"],
            heartbeat_timeout_s=args.heartbeat_timeout,
            max_connections=args.max_connections,
        )
        per_phase: dict[str, list[float]] = defaultdict(list)
        walls, cpus, peaks = [], [], []
        for _ in range(args.runs):

            async def one() -> object:
                return await run_session(settings, await discover(settings))

            cpu0, wall0 = time.process_time(), time.monotonic()
            outcome = asyncio.run(one())
            walls.append(time.monotonic() - wall0)
            cpus.append(time.process_time() - cpu0)
            totals: dict[str, float] = defaultdict(float)
            for name, seconds in outcome.phase_s:  # type: ignore[attr-defined]
                totals[name.split(" (batch")[0]] += seconds
            for name, seconds in totals.items():
                per_phase[name].append(seconds)
            peaks.append(most_open(outcome.transcripts))  # type: ignore[attr-defined]
    finally:
        server.kill()
        server.wait()
    load = os.getloadavg()[0]
    print(f"session, median of {args.runs} (load average {load:.2f}, 2 cores):")
    for name, values in per_phase.items():
        print(f"  {name:22s} {statistics.median(values):6.3f} s")
    print(f"  {'session wall':22s} {statistics.median(walls):6.3f} s")
    print(f"  {'suite CPU (session)':22s} {statistics.median(cpus):6.3f} s")
    print(f"most open at once: {max(peaks)} (--max-connections {args.max_connections})")


if __name__ == "__main__":
    main()
