"""``--max-connections``: never more connections open at once than the bound, held streams in
batches when the plan needs more of them than it allows.

Why: a run holds about 42 streams open for a heartbeat window (44 with ``--long``), after about
28 one-shot probes (refusals, health, instance documents). A small server starves under that
(issue 10: its REST API timed out and 140 cases became errors). Every connection takes a slot
of ``OpenSlots`` before it connects and gives it back once it ended (a probe: when answered; a
held stream: when closed), so the bound holds for everything the run opens.

When the held streams do not fit, they run in batches (``plan_batches``), each one a complete
small run: open, warm up, stimulate the steps its connections observe (``batch_steps``), hold
for the keep-alive windows, close. Each batch proves its own deliveries with its own stimuli
(``DeliveryLog.batches`` keeps which outcomes each connection saw), so every verdict stays what
the unbounded run gives; the price is time: a run costs about one heartbeat interval per batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from conformance.matrix.keys import HASHTAG_CASE_KEYS
from conformance.matrix.steps import EXTRA_ARRIVALS, Step
from conformance.session.plan import Connection

#: Connections that must share a batch: the token revocation ends both at once.
TOGETHER: tuple[frozenset[str], ...] = (frozenset({"sse-user-revocable", "ws-user-revocable"}),)
#: The smallest bound: the connections that must share a batch have to fit in one.
MIN_CONNECTIONS = max(len(g) for g in TOGETHER)


class OpenSlots:
    """A counting bound on open connections (``take`` before connecting, ``give`` once the
    connection ended); ``peak`` is the most that were ever open at once (a self-check)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(MIN_CONNECTIONS, int(limit))
        self._sem = asyncio.Semaphore(self.limit)
        self.open = 0
        self.peak = 0

    async def take(self) -> None:
        await self._sem.acquire()
        self.open += 1
        self.peak = max(self.peak, self.open)

    def give(self) -> None:
        self.open -= 1
        self._sem.release()


def plan_batches(held: Sequence[Connection], limit: int) -> list[list[Connection]]:
    """The held streams in batches of at most ``limit`` (plan order; ``TOGETHER`` groups are
    never split). One batch when they all fit: the run is then exactly the unbounded run."""
    limit = max(MIN_CONNECTIONS, int(limit))
    groups: list[list[Connection]] = []
    placed: dict[frozenset[str], list[Connection]] = {}
    for conn in held:
        group = next((g for g in TOGETHER if conn.key in g), None)
        if group is None:
            groups.append([conn])
        elif group in placed:
            placed[group].append(conn)
        else:
            placed[group] = [conn]
            groups.append(placed[group])
    batches: list[list[Connection]] = []
    for group in groups:
        if not batches or len(batches[-1]) + len(group) > limit:
            batches.append([])
        batches[-1].extend(group)
    return batches


def observed_by(conns: Iterable[Connection]) -> set[str]:
    """The stream names and connection keys a batch observes (a step that names one of them,
    as must-arrive or must-not, has to run while the batch is open)."""
    out: set[str] = set()
    for conn in conns:
        out.add(conn.key)
        if conn.stream:
            out.add(conn.stream)
        for sub in conn.subscriptions:
            out.update(v for k, v in sub if k == "stream")
    return out


def _names(step: Step) -> set[str]:
    names = {*step.arrive, *step.absent, *step.extra_absent_keys}
    names.update(EXTRA_ARRIVALS.get(step.key, ()))
    if step.key == "P":
        names.update(HASHTAG_CASE_KEYS.values())
    if step.key == "W-media":
        names.add("ws-multiplex")
    if step.scenario == "token.revoke":
        names.update(*TOGETHER)
    return names


def batch_steps(steps: Sequence[Step], observed: set[str]) -> tuple[Step, ...]:
    """The steps a batch runs, in plan order: those that name a stream or connection it
    observes, and every step those refer to (``@KEY.role`` params, ``targets``). A barrier is
    a later step arriving on the same stream, so it is named too."""
    by_key = {s.key: s for s in steps}
    wanted = {s.key for s in steps if _names(s) & observed}
    todo = list(wanted)
    while todo:
        step = by_key[todo.pop()]
        refs = [str(v)[1:].partition(".")[0] for _, v in step.params if str(v).startswith("@")]
        for ref in (*refs, *step.targets):
            if ref in by_key and ref not in wanted:
                wanted.add(ref)
                todo.append(ref)
    return tuple(s for s in steps if s.key in wanted)


__all__ = ["MIN_CONNECTIONS", "OpenSlots", "batch_steps", "observed_by", "plan_batches"]
