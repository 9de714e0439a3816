"""Judge one run's transcripts on two cores: this process and one forked child.

Why: judging happens after the session's last byte, on the run's critical path (~0.35 s of CPU
for the embedded server's ~70 transcripts and its delivery log), while the embedded server, the
other process of a run, sits idle on the other core. The checks are pure functions of one
transcript (or, for the run-level checks, of the whole recording), so a forked child can judge
a share and send its Results back pickled; the caller assembles them in the original order, so
the answer is the same list, Result for Result, as judging everything here.

Only where it pays and is safe: Linux (``fork`` is the platform's own; elsewhere it is unsafe or
absent), at least two usable CPUs, and enough transcripts to outweigh the fork (~5 ms). If the
child fails in any way (cannot fork, crashes, sends nothing), its share is judged here: a
failure costs time, never a Result.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["MIN_TRANSCRIPTS", "judge_split", "usable_cpus"]

#: Fewer transcripts than this are judged in-process (a bare file, a unit test's few).
MIN_TRANSCRIPTS = 16

T = TypeVar("T")
R = TypeVar("R")


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _enabled(count: int) -> bool:
    return (
        sys.platform == "linux"
        and hasattr(os, "fork")
        and count >= MIN_TRANSCRIPTS
        and usable_cpus() >= 2
        and os.environ.get("MSC_JUDGE_PROCESSES", "") != "1"
    )


def _halves(weights: Sequence[float]) -> tuple[list[int], list[int]]:
    """Indices split into two bins of about equal weight (heaviest first, into the lighter
    bin); the bin holding index 0 is the first."""
    first: list[int] = []
    second: list[int] = []
    load = [0.0, 0.0]
    for index in sorted(range(len(weights)), key=lambda i: -weights[i]):
        side = 0 if load[0] <= load[1] else 1
        (first if side == 0 else second).append(index)
        load[side] += weights[index]
    if 0 in second:
        first, second = second, first
    return sorted(first), sorted(second)


def judge_split(tasks: Sequence[T], weights: Sequence[float], judge: Callable[[T], R]) -> list[R]:
    """``[judge(t) for t in tasks]``, the lighter-loaded half computed by a forked child when
    that pays (see the module docstring). ``weights`` estimate each task's cost."""
    if not _enabled(len(tasks)):
        return [judge(task) for task in tasks]
    mine, theirs = _halves(weights)
    out: dict[int, R] = {}
    child = _fork_child(lambda: [(i, judge(tasks[i])) for i in theirs])
    try:
        for index in mine:
            out[index] = judge(tasks[index])
        received = _collect(child)
    except BaseException:
        _abandon(child)
        raise
    if received is not None:
        out.update(received)
    for index in theirs:
        if index not in out:  # the child failed: judge its share here
            out[index] = judge(tasks[index])
    return [out[i] for i in range(len(tasks))]


_Child = tuple[int, int] | None  # (pid, read end of its pipe), None when no child


def _fork_child(work: Callable[[], list[tuple[int, R]]]) -> _Child:
    try:
        read, write = os.pipe()
    except OSError:
        return None
    try:
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
    _, status = os.waitpid(pid, 0)
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
