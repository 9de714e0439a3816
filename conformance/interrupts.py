"""Ctrl-C during ``run``: the first stops the run and cleans up, a second one is quiet.

Why: the first Ctrl-C cancels the live session, whose cleanup then deletes what the run created
on the target (shielded, bounded by timeouts). A second Ctrl-C used to raise KeyboardInterrupt in
the middle of that cleanup (or of pytest formatting the first one): a traceback, and objects
left on someone else's server. Now the second one only says that cleanup is finishing; a third
stops at once (exit 130), saying what that may leave behind.

Two places handle SIGINT in a run and both are covered, without changing the first Ctrl-C's
behaviour: outside the event loop Python's ``signal.default_int_handler`` (replaced for the
duration of the run by one that counts), and inside ``asyncio.run`` its Runner's handler (which
installs itself only when it sees the default handler, so it still does, and defers to the
same count for repeats).
"""

from __future__ import annotations

import asyncio.runners
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["EXIT_FORCED", "quiet_repeated_interrupts"]

EXIT_FORCED = 130


class _Counter:
    def __init__(self, stream: TextIO, force_exit: Callable[[int], Any]) -> None:
        self.count = 0
        self.stream = stream
        self.force_exit = force_exit

    def again(self) -> None:
        """A Ctrl-C after the first one: never an exception."""
        if self.count == 2:
            self._say(
                "mastodon-streaming-conformance: interrupted again; finishing cleanup, then "
                "stopping (Ctrl-C once more to stop now, skipping cleanup)"
            )
        else:
            self._say(
                "mastodon-streaming-conformance: stopping now; cleanup skipped, so objects "
                "the run created may remain on the target"
            )
            self.force_exit(EXIT_FORCED)

    def _say(self, line: str) -> None:
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass


class _Terminal:
    """Writes to the terminal's stderr as it was when the run started: pytest captures fd 2
    while cases run, and a line about Ctrl-C must reach the user."""

    def __init__(self) -> None:
        self.fd = os.dup(2)

    def write(self, text: str) -> None:
        os.write(self.fd, text.encode("utf-8", errors="replace"))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        os.close(self.fd)


@contextmanager
def quiet_repeated_interrupts(
    stream: TextIO | None = None, *, force_exit: Callable[[int], Any] = os._exit
) -> Iterator[None]:
    """Within the block, the first SIGINT raises KeyboardInterrupt as usual (asyncio: cancels
    the running session); the second prints one line and is otherwise ignored; the third exits
    at once. Only in the main thread (signals are delivered there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    terminal = _Terminal() if stream is None else None
    counter = _Counter(stream if stream is not None else terminal, force_exit)  # type: ignore[arg-type]
    default = signal.default_int_handler
    runner_cls: Any = getattr(asyncio.runners, "Runner", None)
    original_on_sigint = getattr(runner_cls, "_on_sigint", None)

    def handler(signum: int, frame: Any) -> None:
        counter.count += 1
        if counter.count == 1:
            raise KeyboardInterrupt
        counter.again()

    def on_sigint(self: Any, signum: int, frame: Any, main_task: Any) -> None:
        counter.count += 1
        if counter.count == 1:
            original_on_sigint(self, signum, frame, main_task)  # cancel the session: cleanup
            return
        counter.again()

    previous = signal.getsignal(signal.SIGINT)
    signal.default_int_handler = handler  # type: ignore[assignment]  # asyncio compares to it
    signal.signal(signal.SIGINT, handler)
    if original_on_sigint is not None:
        runner_cls._on_sigint = on_sigint
    try:
        yield
    finally:
        if original_on_sigint is not None:
            runner_cls._on_sigint = original_on_sigint
        signal.default_int_handler = default  # type: ignore[assignment]
        signal.signal(signal.SIGINT, previous if callable(previous) else default)
        if terminal is not None:
            terminal.close()
