"""Start-up and fixed overhead of the command, against the issue's four targets.

Why: a run's duration should be its network time (heartbeats, barriers), not imports, pytest or
report writing. Each figure runs the installed command in a child process exactly as a user
would:

* ``list``: wall time of ``mastodon-streaming-conformance list`` (target <= 0.5 s);
* quick run: ``run --embedded-heartbeat 1 --heartbeat-timeout 2.5`` wall time (target <= 3 s);
* fixed overhead of that run: wall time minus the session's network time (target <= 1 s). The
  network time is read from the run's own transcripts: from the first connection's start to
  the last recorded byte, over every connection and the stimulus log. ``report.json``'s
  ``duration_s`` (the session: plan, network and judging) is printed beside it. Its CPU time
  (independent of the machine's load) is the suite process's CPU outside the live session
  (``bench_cpu_probe.py``: imports, collection, discovery, judging, the per-case protocol,
  reports), plus the CPU of the forked helpers that judge and write reports on the other core
  (``conformance/parallel.py``); the embedded server's CPU, a second process that mostly runs
  on the other core, is printed apart;
* full run at the default 15 s heartbeat: wall time (target <= 1.3 x 15 + 5 = 24.5 s).

    .venv/bin/python bench/bench_startup.py [--runs 3] [--skip-full]

Prints the median of ``--runs`` runs (the full run once), the load average (a loaded machine
inflates every wall figure), wall AND CPU seconds for each figure, and whether each target is met
(by wall time, as the issue states them).
Nothing here asserts timings.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

RUN_TIMEOUT_S = 600
QUICK = ["--embedded-heartbeat", "1", "--heartbeat-timeout", "2.5"]


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float
    network_s: float = 0.0
    session_s: float = 0.0
    summary: str = ""
    suite_cpu_s: float = 0.0  # the suite process alone
    session_cpu_s: float = 0.0  # ... of which inside the live session
    helper_cpu_s: float = 0.0  # the suite's forked helpers (judging, reports) on the other core

    @property
    def overhead_cpu_s(self) -> float:
        return self.suite_cpu_s - self.session_cpu_s + self.helper_cpu_s

    @property
    def server_cpu_s(self) -> float:
        return self.cpu_s - self.suite_cpu_s - self.helper_cpu_s

    @property
    def overhead_s(self) -> float:
        return self.wall_s - self.network_s


def _command() -> list[str]:
    installed = Path(sys.executable).with_name("mastodon-streaming-conformance")
    if installed.exists():
        return [str(installed)]
    found = shutil.which("mastodon-streaming-conformance")
    return [found] if found else [sys.executable, "-m", "conformance"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(
    args: list[str], allowed: tuple[int, ...] = (0,), env: dict[str, str] | None = None
) -> tuple[float, float]:
    cpu0 = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        [*_command(), *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
        env=env,
    )
    wall = time.perf_counter() - start
    if done.returncode not in allowed:
        sys.exit(f"{' '.join(args[:1])} exited {done.returncode}:\n{done.stdout[-2000:]}")
    return wall, _children_cpu() - cpu0


def network_seconds(transcripts: Path) -> float:
    """First connection start to last recorded record, over every transcript of a run."""
    first, last = float("inf"), float("-inf")
    for path in transcripts.glob("*.jsonl"):
        start: float | None = None
        end = 0.0
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                if record.get("kind") == "meta":
                    stamp = record.get("started_at")
                    start = datetime.fromisoformat(stamp).timestamp() if stamp else None
                elif isinstance(record.get("t"), int | float):
                    end = max(end, float(record["t"]))
        if start is not None:
            first, last = min(first, start), max(last, start + end)
    return max(last - first, 0.0) if first != float("inf") else 0.0


def time_list() -> Timing:
    wall, cpu = _timed(["list"])
    return Timing(wall, cpu)


def time_run(extra: list[str]) -> Timing:
    with tempfile.TemporaryDirectory(prefix="msc-bench-") as tmp:
        report_dir = Path(tmp) / "report"
        probe = Path(tmp) / "cpu.json"
        env = dict(os.environ, MSC_BENCH_CPU_FILE=str(probe))
        bench_dir = str(Path(__file__).resolve().parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [bench_dir, env.get("PYTHONPATH")]))
        wall, cpu = _timed(
            ["run", *extra, "--report-dir", str(report_dir), "--", "-p", "bench_cpu_probe"],
            allowed=(0, 1),
            env=env,
        )
        spent = json.loads(probe.read_text(encoding="utf-8"))
        report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
        counts = report["summary"]
        summary = " / ".join(f"{counts[k]} {k}" for k in ("pass", "fail", "info", "not_exercised"))
        return Timing(
            wall,
            cpu,
            network_s=network_seconds(report_dir / "transcripts"),
            session_s=float(report["duration_s"]),
            summary=summary + f" / {counts['error']} error",
            suite_cpu_s=float(spent["total"]),
            session_cpu_s=float(spent["session"]),
            helper_cpu_s=float(spent.get("helpers", 0.0)),
        )


def calibration_s() -> float:
    """CPU seconds of a fixed pure-Python loop, the best of three.

    Why: on a shared virtual machine the same work costs a different number of CPU seconds from
    one hour to the next (measured here: 0.57 to 0.70 s for this loop), and every figure above
    scales with it; printing it beside the figures makes runs at different times comparable."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        total = 0
        for i in range(3_000_000):
            total += i
        best = min(best, time.process_time() - start)
    return best


def _median(timings: list[Timing]) -> Timing:
    return sorted(timings, key=lambda t: t.wall_s)[len(timings) // 2]


def _verdict(value: float, target: float) -> str:
    return f"{'ok' if value <= target else 'OVER'} (target <= {target:g} s)"


def compile_package() -> int:
    """Byte-compile the package (what ``pip install`` does for a regular install).

    Why: a checkout's editable install has no ``.pyc`` until a run writes them, and with
    ``PYTHONDONTWRITEBYTECODE`` set no run ever does: every start then compiles ~500 modules
    from source (~1 s of CPU in the suite process and in the embedded server), a cost no
    installed user pays. Returns how many files were (re)compiled."""
    import compileall
    import py_compile

    package = Path(__file__).resolve().parent.parent / "conformance"
    before = sum(1 for _ in package.rglob("__pycache__/*.pyc"))
    compileall.compile_dir(
        package, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP
    )
    return sum(1 for _ in package.rglob("__pycache__/*.pyc")) - before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--skip-full", action="store_true", help="skip the 15 s-heartbeat run")
    args = parser.parse_args(argv)

    fresh = compile_package()
    if fresh:
        print(f"byte-compiled {fresh} modules first (as an installed package has them)")

    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} at start; "
        f"speed: a fixed 3M-step Python loop takes {calibration_s():.3f} s CPU"
    )
    listing = [time_list() for _ in range(args.runs)]
    list_wall = statistics.median(t.wall_s for t in listing)
    list_cpu = statistics.median(t.cpu_s for t in listing)
    print(
        f"list:           {list_wall:6.2f} s wall ({list_cpu:.2f} s CPU)  "
        f"{_verdict(list_wall, 0.5)}"
    )

    quick = _median([time_run(QUICK) for _ in range(args.runs)])
    print(
        f"quick run:      {quick.wall_s:6.2f} s wall, {quick.cpu_s:.2f} s CPU "
        f"(suite {quick.suite_cpu_s:.2f} s + helpers {quick.helper_cpu_s:.2f} s, "
        f"server {quick.server_cpu_s:.2f} s)  "
        f"{_verdict(quick.wall_s, 3.0)}"
    )
    print(
        f"fixed overhead: {quick.overhead_s:6.2f} s wall = wall - network {quick.network_s:.2f} s "
        f"(session {quick.session_s:.2f} s); {quick.overhead_cpu_s:.2f} s CPU = suite CPU - "
        f"{quick.session_cpu_s:.2f} s in the session + helpers  {_verdict(quick.overhead_s, 1.0)}"
    )
    print(f"                quick run verdicts: {quick.summary}")
    if not args.skip_full:
        full = time_run([])
        target = 1.3 * 15 + 5
        print(
            f"full run (15 s heartbeat): {full.wall_s:6.2f} s wall, {full.cpu_s:.2f} s CPU, "
            f"network {full.network_s:.2f} s, overhead {full.overhead_s:.2f} s wall / "
            f"{full.overhead_cpu_s:.2f} s CPU  {_verdict(full.wall_s, target)}"
        )
        print(f"                full run verdicts: {full.summary}")
    print(
        f"load average at end {os.getloadavg()[0]:.2f}; speed: the loop takes "
        f"{calibration_s():.3f} s CPU"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
