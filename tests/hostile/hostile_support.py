"""Run the suite against a crafted server in a subprocess and measure it (wall time, peak RSS).

Shared by the hostile-server self-tests and ``bench/bench_hostile.py``. Peak RSS comes from
``getrusage(RUSAGE_CHILDREN)`` inside a one-shot wrapper process, so it is the suite's own peak,
not the test runner's.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from timing import scaled

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TOKEN = "hostileTokenAAAAbbbbCCCCdddd0001"
SECOND_TOKEN = "hostileTokenZZZZyyyyXXXXwwww0002"
PASSWORD = "hostilePassw0rdQQQQ"

#: The short-deadline options every hostile run uses.
QUICK_OPTIONS = (
    "--read-only",
    "--heartbeat-timeout",
    "2",
    "--observe-seconds",
    "1",
    "--timeout-multiplier",
    "0.2",
    "--max-setup-attempts",
    "1",
    "--max-retry-wait",
    "1",
)

#: A Python traceback, or pytest's rendering of one (frames ``path.py:12: in f``, ``E   XError``).
SUITE_TRACEBACK = re.compile(
    r"Traceback \(most recent call last\)|INTERNALERROR"
    r"|^\S+\.py:\d+: in |^E\s+\w+(Error|Exception)\b",
    re.M,
)

_MEASURE = """
import json, os, resource, subprocess, sys, time
t0 = time.monotonic()
rc = subprocess.call(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(os.environ["MSC_MEASURE_OUT"], "w") as fh:
    json.dump({"rc": rc, "wall_s": time.monotonic() - t0, "maxrss_kib": usage.ru_maxrss}, fh)
"""


@dataclass(frozen=True)
class RunOutcome:
    rc: int | None  # None: killed at the test's own bound
    wall_s: float
    peak_rss_mib: float
    stdout: str
    stderr: str
    report_dir: Path


@contextmanager
def crafted_server(script: str, *args: str) -> Iterator[str]:
    """Start ``tests/hostile/<script>`` (prints ``{"url": ...}``); yields the URL."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE / script), *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + scaled(20)
        line = ""
        while not line and time.monotonic() < deadline:
            if sel.select(timeout=max(deadline - time.monotonic(), 0)):
                line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{script} printed no startup line")
        yield json.loads(line)["url"]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def run_suite(
    target: str,
    report_dir: Path,
    *,
    options: Sequence[str] = QUICK_OPTIONS,
    bound_s: float = 120.0,
    env: dict[str, str] | None = None,
) -> RunOutcome:
    """``mastodon-streaming-conformance run --target TARGET ...``, measured; killed at the bound."""
    cli = Path(sys.executable).with_name("mastodon-streaming-conformance")
    command = [str(cli), "run", "--target", target, "--report-dir", str(report_dir), *options]
    with tempfile.TemporaryDirectory() as tmp:
        out_path = Path(tmp) / "measure.json"
        full_env = {
            **os.environ,
            "MSC_TOKEN": TOKEN,
            "MSC_SECOND_TOKEN": SECOND_TOKEN,
            "MSC_MEASURE_OUT": str(out_path),
            **(env or {}),
        }
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", _MEASURE, *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=scaled(bound_s))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            return RunOutcome(
                None,
                time.monotonic() - started,
                0.0,
                stdout.decode("utf-8", "replace"),
                stderr.decode("utf-8", "replace"),
                report_dir,
            )
        measured = json.loads(out_path.read_text())
    return RunOutcome(
        rc=int(measured["rc"]),
        wall_s=float(measured["wall_s"]),
        peak_rss_mib=measured["maxrss_kib"] / 1024,
        stdout=stdout.decode("utf-8", "replace"),
        stderr=stderr.decode("utf-8", "replace"),
        report_dir=report_dir,
    )


def artefact_bytes(report_dir: Path) -> Iterator[tuple[Path, bytes]]:
    """Every file a run left, plus the decoded body and frame bytes of its transcripts."""
    from conformance.transcript.model import read_transcripts

    for path in sorted(report_dir.rglob("*")):
        if not path.is_file():
            continue
        yield path, path.read_bytes()
        if path.suffix == ".jsonl":
            for transcript in read_transcripts(path):
                for record in transcript.records:
                    if record.data:
                        yield path, record.data
