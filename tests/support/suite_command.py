"""The suite's command line for self-tests that run it as a user would (a subprocess)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["FAST_EMBEDDED", "run_embedded", "suite_command"]


def suite_command() -> list[str]:
    """The installed ``mastodon-streaming-conformance`` beside this interpreter, else the one on
    PATH, else ``python -m conformance`` (a checkout without the console script)."""
    installed = Path(sys.executable).with_name("mastodon-streaming-conformance")
    if installed.exists():
        return [str(installed)]
    found = shutil.which("mastodon-streaming-conformance")
    return [found] if found else [sys.executable, "-m", "conformance"]


#: A quick embedded run: a 1 s reference heartbeat judged against a 2.5 s window.
FAST_EMBEDDED = ("--embedded-heartbeat", "1", "--heartbeat-timeout", "2.5")


def run_embedded(
    report_dir: Path, *args: str, timeout_s: float
) -> subprocess.CompletedProcess[str]:
    """``run`` against the embedded reference server (``FAST_EMBEDDED``), reports in
    ``report_dir``, pytest quiet and unshuffled; ``args`` go before pytest's ``--``."""
    return subprocess.run(
        [
            *suite_command(),
            "run",
            *FAST_EMBEDDED,
            "--report-dir",
            str(report_dir),
            *args,
            "--",
            "-q",
            "-p",
            "no:randomly",
        ],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=report_dir.parent,
        check=False,
    )
