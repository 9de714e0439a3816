"""Start the reference server as a subprocess for session tests (shared by the session tests)."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from timing import scaled


@contextmanager
def reference_server(*args: str) -> Iterator[dict[str, Any]]:
    """``python -m conformance.reference serve --port 0 ARGS``; yields its startup line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.reference", "serve", "--port", "0", *args],
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
            if sel.select(timeout=deadline - time.monotonic()):
                line = proc.stdout.readline()
        assert line, "the reference server printed no startup line"
        yield json.loads(line)
    finally:
        proc.terminate()
        try:
            proc.wait(scaled(10))
        except subprocess.TimeoutExpired:
            proc.kill()
