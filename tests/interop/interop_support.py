"""Shared plumbing for the real-client interop tests: the reference server as a subprocess (the
way the suite itself starts it) and a thread-safe log that client callbacks write into.

The clients under test (Mastodon.py, masto.js) are synchronous or run in another process, so this
module is plain threads and subprocesses, no asyncio; every wait has a deadline.
"""

from __future__ import annotations

import json
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from timing import scaled

REPO_ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE_S = scaled(15.0)
STOP_DEADLINE_S = scaled(10.0)


@dataclass(frozen=True)
class Served:
    """The start-up line of ``python -m conformance.reference serve``."""

    url: str
    streaming_url: str
    accounts: list[dict[str, str]]
    lists: list[dict[str, str]]

    @property
    def alice(self) -> dict[str, str]:
        return self.accounts[0]

    @property
    def bob(self) -> dict[str, str]:
        return self.accounts[1]


def _read_line(proc: subprocess.Popen[bytes], deadline_s: float) -> bytes:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(deadline_s):
            raise TimeoutError(f"no start-up line within {deadline_s} s")
    return proc.stdout.readline()


@contextmanager
def reference_server(*args: str) -> Iterator[Served]:
    """Start the reference server on a free port; SIGTERM it (and wait) on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.reference", "serve", "--port", "0", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        raw = _read_line(proc, START_DEADLINE_S)
        assert raw.endswith(b"\n"), f"no start-up line (exit {proc.poll()})"
        line = json.loads(raw)
        yield Served(line["url"], line["streaming_url"], line["accounts"], line["lists"])
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_DEADLINE_S)
        if proc.stdout is not None:
            proc.stdout.close()


@dataclass(frozen=True)
class Seen:
    """One callback a client made: which subscription, which callback, with what."""

    sub: str
    kind: str
    payload: Any = None


@dataclass
class EventLog:
    """Callbacks append from client threads; the test waits on a predicate with a deadline."""

    entries: list[Seen] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def add(self, sub: str, kind: str, payload: Any = None) -> None:
        with self._cond:
            self.entries.append(Seen(sub, kind, payload))
            self._cond.notify_all()

    def snapshot(self) -> list[Seen]:
        with self._cond:
            return list(self.entries)

    def wait_for(self, predicate: Callable[[list[Seen]], bool], timeout_s: float) -> bool:
        end = time.monotonic() + timeout_s
        with self._cond:
            while not predicate(self.entries):
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def find(self, sub: str, kind: str, match: Callable[[Any], bool]) -> list[Seen]:
        return [e for e in self.snapshot() if e.sub == sub and e.kind == kind and match(e.payload)]
