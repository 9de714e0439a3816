"""Fan-out under load against the embedded reference server: a ramp of mixed SSE and WebSocket
subscribers, with delivery ratio and latency percentiles per step and the number of subscribers
per client core the load client sustains.

Why: ``load`` exists to find how many subscribers a streaming server holds and how quickly each
gets every event; this runs it exactly as a user would (the installed command, in a child
process, under ``nice``) and prints the figures quoted in the README. The machine's load average
(``uptime``) is printed before and after, because on a shared machine it changes the figures.
The soft open-files limit is raised to the hard limit first (``load`` does so itself too; the
reference server it starts inherits it).

    .venv/bin/python bench/bench_load.py [--ramp 500:1500:5000] [--rate 0.5] [--duration 20]

Prints Markdown tables. Nothing here asserts figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RUN_TIMEOUT_S = 3600


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _command(args: argparse.Namespace, out: Path) -> list[str]:
    exe = Path(sys.executable).with_name("mastodon-streaming-conformance")
    cli = [str(exe)] if exe.exists() else [sys.executable, "-m", "conformance"]
    nice = ["nice", "-n", str(args.nice)] if shutil.which("nice") else []
    return [
        *nice, *cli, "load",
        "--ramp", args.ramp, "--transport", "mix", "--streams", args.streams,
        "--rate", f"{args.rate:g}", "--duration", f"{args.duration:g}",
        "--drain", f"{args.drain:g}", "--max-p99-ms", f"{args.max_p99_ms:g}",
        "--max-loss", f"{args.max_loss:g}", "--keep-going", "--report-dir", str(out),
    ]  # fmt: skip


def _ms(value: Any) -> str:
    return "–" if value is None else f"{value:,.0f}"


def table(report: dict[str, Any]) -> str:
    lines = [
        "| subscribers (SSE/WS) | stimuli | delivered | ratio | lost | dup | p50 ms | p95 ms "
        "| p99 ms | max ms | setup p99 ms | refused | client CPU | subs per client core | breaks |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in report["steps"]:
        d, lat, c = s["delivery"], s["latency_ms"], s["client"]
        cores_used = c["cpu_s"] / max(c["window_s"], 1e-9)
        per_core = f"{s['subscribers'] / cores_used:,.0f}" if cores_used > 0 else "–"
        ratio = "–" if d["ratio"] is None else f"{d['ratio']:.4%}"
        lines.append(
            f"| {s['subscribers']:,} ({s['by_transport']['sse']['subscribers']:,}/"
            f"{s['by_transport']['ws']['subscribers']:,}) | {s['stimuli']['produced']} | "
            f"{d['delivered']:,} | {ratio} | {d['lost']:,} | {d['duplicated']:,} | "
            f"{_ms(lat['p50_ms'])} | {_ms(lat['p95_ms'])} | {_ms(lat['p99_ms'])} | "
            f"{_ms(lat['max_ms'])} | {_ms(s['connections']['setup_ms']['p99_ms'])} | "
            f"{s['connections']['refused']:,} | {c['cpu_fraction_of_cores']:.1%} | {per_core} | "
            f"{'; '.join(s['breaks']) or 'none'} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ramp", default="500:1500:5000")
    parser.add_argument("--streams", default="public,hashtag,user")
    parser.add_argument("--rate", type=float, default=0.5)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--drain", type=float, default=30.0)
    parser.add_argument("--max-p99-ms", type=float, default=2000.0)
    parser.add_argument("--max-loss", type=float, default=0.001)
    parser.add_argument("--nice", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="copy the report directory here")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"open files: soft {resource.getrlimit(resource.RLIMIT_NOFILE)[0]}, hard {hard}")
    print(f"before: {_uptime()}")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        out = Path(tmp) / "report"
        start = time.monotonic()
        proc = subprocess.run(_command(args, out), timeout=RUN_TIMEOUT_S, capture_output=True)
        wall = time.monotonic() - start
        print(f"after:  {_uptime()}")
        if proc.returncode not in (0, 1) or not (out / "load.json").is_file():
            sys.stderr.write(proc.stderr.decode(errors="replace")[-3000:])
            return 2
        report = json.loads((out / "load.json").read_text())
        if args.keep:
            shutil.copytree(out, args.keep, dirs_exist_ok=True)
    cap = report["capacity"]
    print(f"\nwall time {wall:.0f} s, ramp {args.ramp}, {args.rate:g} stimuli/s for "
          f"{args.duration:g} s per step, streams {args.streams}\n")  # fmt: skip
    print(table(report))
    print(
        f"\nsustained (p99 <= {args.max_p99_ms:g} ms, loss <= {args.max_loss:.2%}): "
        f"{cap['sustained_subscribers']} subscribers; first broken step: "
        f"{cap['first_break_subscribers']} ({'; '.join(cap['first_break_reasons']) or '-'}); "
        f"client-limited: {cap['client_limited']}"
    )
    biggest = report["steps"][-1]
    used = biggest["client"]["cpu_s"] / max(biggest["client"]["window_s"], 1e-9)
    if used > 0:
        print(
            f"client: {biggest['subscribers']:,} subscribers on {used:.3f} client cores = "
            f"{biggest['subscribers'] / used:,.0f} subscribers per client core"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
