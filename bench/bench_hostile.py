"""Peak memory and wall time of a whole run against each hostile-server mode.

Why: a conformance client must survive the servers it is meant to expose. Each row starts
``tests/hostile/hostile_server.py --mode NAME`` and runs the installed command against it with
the short deadlines of the self-tests (``tests/hostile/hostile_support.QUICK_OPTIONS``), in a
child process measured by ``getrusage(RUSAGE_CHILDREN)``: peak RSS is the suite's own.

    .venv/bin/python bench/bench_hostile.py [--mode NAME ...] [--runs 1]

Prints a Markdown table for the README (peak RSS, longest run per mode). Nothing here asserts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "hostile"))

from hostile_server import MODES
from hostile_support import SUITE_TRACEBACK, crafted_server, run_suite


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", action="append", choices=sorted(MODES))
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--bound", type=float, default=300.0, help="kill a run after S seconds")
    args = parser.parse_args()
    modes = args.mode or list(MODES)
    print("| mode | behaviour | exit | longest run | peak RSS | traceback |")
    print("|---|---|---:|---:|---:|---|")
    worst_rss = worst_wall = 0.0
    for mode in modes:
        walls, rss, codes, traces = [], [], [], []
        for _ in range(args.runs):
            with (
                tempfile.TemporaryDirectory() as tmp,
                crafted_server("hostile_server.py", "--mode", mode) as url,
            ):
                outcome = run_suite(url, Path(tmp) / "report", bound_s=args.bound)
            walls.append(outcome.wall_s)
            rss.append(outcome.peak_rss_mib)
            codes.append("killed" if outcome.rc is None else str(outcome.rc))
            traces.append(bool(SUITE_TRACEBACK.search(outcome.stdout + outcome.stderr)))
        worst_wall, worst_rss = max(worst_wall, *walls), max(worst_rss, *rss)
        print(
            f"| `{mode}` | {MODES[mode]} | {'/'.join(sorted(set(codes)))} |"
            f" {max(walls):.1f} s | {max(rss):.0f} MiB | {'yes' if any(traces) else 'no'} |",
            flush=True,
        )
    print(f"\nlongest run {worst_wall:.1f} s, peak RSS {worst_rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
