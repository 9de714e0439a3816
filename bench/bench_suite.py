"""Full-suite wall time against the embedded reference server, per heartbeat interval.

Why: the suite's duration is dominated by waiting (heartbeats, barriers, observation windows),
not by computation, so the figure users need is "how long does a run take" for the server's
real 15 s heartbeat and for a fast 1 s test heartbeat. Each row runs the installed command in a
child process exactly as a user would and reads the case count from its report.json. Peak
memory is the child's maximum resident set size (``wait4`` rusage, which covers the suite and
the reference server it started and reaped).

    .venv/bin/python bench/bench_suite.py [--heartbeat 15 --heartbeat 1] [--runs 1]

Prints a Markdown table for the README. Nothing here asserts timings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

RUN_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Row:
    heartbeat_s: float
    heartbeat_timeout_s: float
    wall_s: float
    session_s: float
    cases: int
    summary: dict[str, int]
    exit_status: int
    peak_rss_mib: float


def _command() -> list[str]:
    installed = Path(sys.executable).with_name("mastodon-streaming-conformance")
    if installed.exists():
        return [str(installed)]
    found = shutil.which("mastodon-streaming-conformance")
    return [found] if found else [sys.executable, "-m", "conformance"]


def heartbeat_timeout_for(heartbeat_s: float) -> float:
    """A deadline comfortably past one interval, as a user would set it (default 20 s at 15 s)."""
    return max(20.0, heartbeat_s + 5.0) if heartbeat_s >= 10 else heartbeat_s * 2.5


def run_once(heartbeat_s: float, extra: list[str]) -> Row:
    timeout_s = heartbeat_timeout_for(heartbeat_s)
    with tempfile.TemporaryDirectory(prefix="msc-bench-") as tmp:
        report_dir = Path(tmp) / "report"
        command = [
            *_command(),
            "run",
            "--embedded-heartbeat",
            f"{heartbeat_s:g}",
            "--heartbeat-timeout",
            f"{timeout_s:g}",
            "--report-dir",
            str(report_dir),
            "--",
            "-q",
            "-p",
            "no:randomly",
            *extra,
        ]
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = started + RUN_TIMEOUT_S
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.2)
        wall = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        report_path = report_dir / "report.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return Row(
        heartbeat_s=heartbeat_s,
        heartbeat_timeout_s=timeout_s,
        wall_s=wall,
        session_s=float(report.get("duration_s", 0.0)),
        cases=len(report.get("results", [])),
        summary=report.get("summary", {}),
        exit_status=process.returncode,
        peak_rss_mib=usage.ru_maxrss / 1024,  # Linux reports KiB
    )


def table(rows: list[Row]) -> str:
    lines = [
        "| heartbeat | heartbeat timeout | wall time | session | results | pass | fail | "
        "not_exercised | exit | peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.heartbeat_s:g} s | {r.heartbeat_timeout_s:g} s | {r.wall_s:.1f} s | "
            f"{r.session_s:.1f} s | {r.cases} | {r.summary.get('pass', 0)} | "
            f"{r.summary.get('fail', 0)} | {r.summary.get('not_exercised', 0)} | "
            f"{r.exit_status} | {r.peak_rss_mib:.0f} MiB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--heartbeat",
        type=float,
        action="append",
        dest="heartbeats",
        help="embedded server heartbeat in seconds (repeatable; default 15 and 1)",
    )
    parser.add_argument("--runs", type=int, default=1, help="runs per heartbeat (default 1)")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    rows = [
        run_once(hb, args.pytest_args)
        for hb in (args.heartbeats or [15.0, 1.0])
        for _ in range(args.runs)
    ]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
