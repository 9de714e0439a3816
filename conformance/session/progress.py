"""The live progress line: what the session is doing while streams are open.

Why: a full run keeps streams open for a heartbeat window or longer, and a terminal that shows
nothing for 17 s after "collected N items" looks hung. One line, rewritten in place twice a
second: the phase, connections open, messages received, seconds left in the phase (when the
phase has a deadline) or elapsed. It is quiet when stderr is not a TTY (CI logs stay clean) or
when ``MSC_PROGRESS=0``. It only reads the session's state (no judging, no I/O besides the
terminal) and is cancelled before judging starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from typing import Any, TextIO

from conformance.session.state import LiveRun

__all__ = ["Progress"]

_INTERVAL_S = 0.5
_RECEIVED = ("body-chunk", "ws-frame-recv")


class Progress:
    """``async with Progress(run):`` around the live phases; ``phase(name, seconds)`` marks
    each one (``seconds``: its deadline, if it has one)."""

    def __init__(self, run: LiveRun, stream: TextIO | None = None) -> None:
        self._run = run
        self._stream = stream if stream is not None else sys.stderr
        self.enabled = _wanted(self._stream)
        self._phase = "starting"
        self._deadline: float | None = None
        self._phase_started = time.monotonic()
        self._seen: dict[str, tuple[int, int]] = {}  # key -> (records scanned, received)
        self._task: asyncio.Task[None] | None = None
        self._width = 0

    def phase(self, name: str, seconds: float | None = None) -> None:
        self._phase = name
        self._phase_started = time.monotonic()
        stamps = getattr(self._run, "phase_stamps", None)  # SessionOutcome.phase_s
        if stamps is not None:
            stamps.append((name, self._phase_started))
        self._deadline = None if seconds is None else self._phase_started + seconds

    def line(self) -> str:
        """The current progress text (also used by the self-tests)."""
        live = list(self._run.live.values())
        open_now = sum(1 for c in live if c.is_open)
        received = 0
        for key, conn in self._run.live.items():
            transcript = conn.transcript
            if transcript is None:
                continue
            scanned, count = self._seen.get(key, (0, 0))
            records = transcript.records
            count += sum(1 for r in records[scanned:] if r.kind in _RECEIVED)
            self._seen[key] = (len(records), count)
            received += count
        now = time.monotonic()
        if self._deadline is not None:
            clock = f"~{max(0.0, self._deadline - now):.0f} s left"
        else:
            clock = f"{now - self._phase_started:.0f} s"
        return (
            f"[msc] {self._phase}: {open_now}/{len(live)} connections open, "
            f"{received} messages received, {clock}"
        )

    async def __aenter__(self) -> Progress:
        if self.enabled:
            self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._write("\r" + " " * self._width + "\r")

    async def _loop(self) -> None:
        while True:
            text = self.line()
            self._width = max(self._width, len(text))
            self._write("\r" + text.ljust(self._width))
            await asyncio.sleep(_INTERVAL_S)  # a display refresh, not a wait for a condition

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(text)
            self._stream.flush()


def _wanted(stream: TextIO) -> bool:
    if os.environ.get("MSC_PROGRESS", "").strip().lower() in ("0", "false", "no", "off"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False
