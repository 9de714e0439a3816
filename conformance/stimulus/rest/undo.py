"""The cleanup ledger: everything the driver changes is undone in reverse order, also after a
failure or Ctrl-C, so a run leaves the accounts as it found them.

What a step could not undo is kept in ``leftovers`` (one line each, no token), which the
session reports in report.json (``cleanup_not_removed``): a run must say what it left behind
on someone else's server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

#: One logger for the whole driver (``conformance.stimulus.rest``), as before it was a package.
log = logging.getLogger(__package__)

UndoStep = Callable[[], Awaitable[None]]
T = TypeVar("T")


class UndoLog:
    """Mixin for ``RestDriver``: remembers how to revert each change and reverts them all."""

    _undo: list[tuple[str, UndoStep]]
    _timeout: float
    #: what cleanup could not remove, one line each (filled by ``cleanup``)
    leftovers: list[str]

    def _remember(self, label: str, step: UndoStep) -> None:
        self._undo.append((label, step))

    def _forget(self, label: str) -> None:
        self._undo = [(name, step) for name, step in self._undo if name != label]

    async def _to_completion(self, work: Awaitable[T]) -> T:
        """Run ``work`` to its end even if we are cancelled (Ctrl-C) meanwhile: a request the
        server already honoured must reach the undo log, or cleanup cannot remove what it made.
        The cancellation is re-raised once the work is done (bounded by a few timeouts)."""
        task = asyncio.ensure_future(work)
        self._in_flight().add(task)
        task.add_done_callback(self._in_flight().discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), self._timeout * 3)
            raise

    def mark_setup(self) -> None:
        """What is remembered so far belongs to setup: ``rewind`` keeps it."""
        self._setup_undo = len(self._undo)

    async def rewind(self) -> None:
        """Undo what the steps changed since setup (mutes, blocks, statuses, announcements ...),
        keeping what setup made (list, follows, minted tokens): a ``--max-connections`` batch
        starts from the state the first one did."""
        keep = getattr(self, "_setup_undo", 0)
        self._undo, later = self._undo[:keep], self._undo[keep:]
        await self._undo_all(later)

    async def cleanup(self) -> None:
        """Undo in reverse order; each step is attempted even if an earlier one failed.

        Shielded so a Ctrl-C arriving during cleanup does not leave half the state behind.
        Work still in flight (a step a Ctrl-C interrupted, e.g. one of the concurrent warm-ups)
        is awaited first, bounded: what it creates must be in the log before it is read."""
        pending = [t for t in self._in_flight() if not t.done()]
        if pending:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(asyncio.gather(*pending)), self._timeout * 3)
        steps, self._undo = list(self._undo), []
        await self._undo_all(steps)

    async def _undo_all(self, steps: list[tuple[str, UndoStep]]) -> None:
        steps = list(reversed(steps))
        for label, step in steps:
            try:
                await asyncio.shield(step())
            except asyncio.CancelledError:
                log.warning("cleanup step %s interrupted", label)
                self.leftovers.append(f"{label}: interrupted")
            except Exception as exc:  # cleanup must not raise; report and go on
                log.warning("cleanup step %s failed: %s", label, exc)
                self.leftovers.append(f"{label}: {exc}")

    def _in_flight(self) -> set[asyncio.Future[Any]]:
        """The driver's works still running (``_to_completion``), created on first use."""
        tasks: set[asyncio.Future[Any]] | None = getattr(self, "_tasks", None)
        if tasks is None:
            tasks = self._tasks = set()
        return tasks

    @property
    def pending_cleanup(self) -> list[str]:
        return [label for label, _ in self._undo]
