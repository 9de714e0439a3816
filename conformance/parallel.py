"""Work split between this process and one forked child: judging a run, writing its reports.

Why: judging (~0.35 s of CPU for the embedded server's ~70 transcripts and its delivery log) and
writing the reports (~0.3 s) happen after the session's last byte, on the run's critical path,
while the embedded server, the other process of a run, sits idle on the other core. Both are
pure functions of data already in memory (checks of one transcript or of the whole recording;
writers of one file each), so a forked child can do a share: it sends its results back pickled
and the caller gets them in the original order, the same list as doing everything here.

Only where it pays and is safe: Linux (``fork`` is the platform's own; elsewhere it is unsafe or
absent), at least two usable CPUs, enough tasks to outweigh the fork (~5 ms), and not disabled
(``MSC_NO_FORK=1``). If the child fails in any way (cannot fork, crashes, sends nothing), its
share is done here: a failure costs time, never a result.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["Background", "enabled", "helper_cpu_s", "in_background", "split_work", "usable_cpus"]

_HELPER_CPU = [0.0]


def helper_cpu_s() -> float:
    """CPU seconds the forked helpers of this process used so far (``bench/``: work moved to
    the other core still counts)."""
    return _HELPER_CPU[0]


T = TypeVar("T")
R = TypeVar("R")


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def enabled() -> bool:
    """Whether this process may fork a helper (see the module docstring)."""
    return (
        sys.platform == "linux"
        and not _NO_MORE_FORKS[0]
        and hasattr(os, "fork")
        and os.environ.get("MSC_NO_FORK", "") != "1"
        and usable_cpus() >= 2
    )


def _halves(weights: Sequence[float], share: float = 0.5) -> tuple[list[int], list[int]]:
    """Indices split into two bins, the first holding about ``share`` of the weight (heaviest
    first, into the bin furthest below its target)."""
    first: list[int] = []
    second: list[int] = []
    load = [0.0, 0.0]
    target = (max(share, 1e-6), max(1.0 - share, 1e-6))
    for index in sorted(range(len(weights)), key=lambda i: -weights[i]):
        side = 0 if load[0] / target[0] <= load[1] / target[1] else 1
        (first if side == 0 else second).append(index)
        load[side] += weights[index]
    if share == 0.5 and 0 in second:  # equal bins: the one holding index 0 is the first
        first, second = second, first
    return sorted(first), sorted(second)


def split_work(
    tasks: Sequence[T],
    weights: Sequence[float],
    run: Callable[[T], R],
    *,
    min_tasks: int = 2,
    share: float = 0.5,
) -> list[R]:
    """``[run(t) for t in tasks]``, part of the weight done by a forked child when that pays
    (see the module docstring). ``weights`` estimate each task's cost; fewer than
    ``min_tasks`` tasks are always done here; ``share`` is the part of the weight done here (less
    than half when this process has other work meanwhile)."""
    if len(tasks) < max(min_tasks, 2) or not enabled():
        return [run(task) for task in tasks]
    mine, theirs = _halves(weights, share)
    out: dict[int, R] = {}
    child = _fork_child(lambda: [(i, run(tasks[i])) for i in theirs])
    try:
        for index in mine:
            out[index] = run(tasks[index])
        received = _collect(child)
    except BaseException:
        _abandon(child)
        raise
    if received is not None:
        out.update(received)
    for index in theirs:
        if index not in out:  # the child failed: do its share here
            out[index] = run(tasks[index])
    return [out[i] for i in range(len(tasks))]


_Child = tuple[int, int] | None  # (pid, read end of its pipe), None when no child


class Background:
    """One piece of work a forked child is doing while this process goes on
    (``in_background``). Collect it once with ``result()`` or drop it with ``abandon()``."""

    def __init__(self, child: _Child) -> None:
        self._child = child

    def result(self) -> tuple[bool, object]:
        """Wait for the child: ``(True, its return value)``, or ``(False, None)`` if it failed
        in any way (then the caller does the work itself)."""
        child, self._child = self._child, None
        received = _collect(child)
        if received is None or 0 not in received:
            return False, None
        return True, received[0]

    def abandon(self) -> None:
        """Kill the child, if any, and forget its work (idempotent)."""
        child, self._child = self._child, None
        _abandon(child)


def in_background(work: Callable[[], R]) -> Background | None:
    """Start ``work()`` in a forked child now, for a result collected later; None when forking
    is not enabled or fails (the caller does the work itself). The child must only write its
    own files and return a picklable value: it shares nothing with this process afterwards."""
    if not enabled():
        return None
    child = _fork_child(lambda: [(0, _alone(work))])
    return Background(child) if child is not None else None


_NO_MORE_FORKS = [False]


def _alone(work: Callable[[], R]) -> R:
    """Run a background child's work without forking again: its own ``split_work`` would only
    take the core the parent is using meanwhile."""
    _NO_MORE_FORKS[0] = True
    return work()


def _fork_child(work: Callable[[], list[tuple[int, R]]]) -> _Child:
    try:
        read, write = os.pipe()
    except OSError:
        return None
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns about fork() in a multi-threaded process (a run has the
            # embedded server's output-drain thread): the child only judges or writes its own
            # report files, pickles the answer into its pipe and _exit()s, taking no lock the
            # other thread could hold (that thread only reads the server's stdout).
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid == 0:  # the child: compute, send, leave without any of the parent's cleanup
        code = 1
        try:
            os.close(read)
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it at once
            data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def _collect(child: _Child) -> dict[int, R] | None:
    if child is None:
        return None
    pid, read = child
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    _, status, usage = os.wait4(pid, 0)
    _HELPER_CPU[0] += usage.ru_utime + usage.ru_stime
    if status != 0 or not data:
        return None
    try:
        return dict(pickle.loads(data))  # our own child's bytes, never input
    except Exception:
        return None


def _abandon(child: _Child) -> None:
    if child is None:
        return
    pid, read = child
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.close(read)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)
