"""Whole sessions against the reference server's `--fault` mutants, several processes at once.

Why processes: one session is mostly CPU in the suite itself (opening ~70 connections, REST
stimuli, judging ~1350 cases: about 2 s of CPU in a 4 s session), so sessions sharing one event
loop share one core, however many run "at once". ``run_all`` runs the faithful baseline alone in
the calling process, then every mutant in a pool of spawned worker processes (one session per
worker at a time), so both cores of a CI runner are used and a slow mutant does not hold up the
rest. Each session keeps its own deadlines (scaled by ``MSC_TEST_TIME_SCALE``).

Coverage: when the calling process is measured (pytest-cov), each worker measures itself with the
same configuration and saves a parallel data file beside the main one, which pytest-cov combines
at the end; so the mutants' code paths still count in CI's coverage report.
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import multiprocessing
import os
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from timing import scaled

from conformance.config import Settings
from conformance.discovery import discover
from conformance.embedded import EmbeddedServer, start_embedded
from conformance.session import run_session
from conformance.verdicts import Result, Verdict

__all__ = ["RunOutcome", "SessionOptions", "concurrency", "run_all", "run_one"]

#: ``MSC_FAULT_CONCURRENCY``: sessions running at once (worker processes). Each session is about
#: half CPU, half waiting, so 4 keeps two cores busy without queueing much behind them.
DEFAULT_CONCURRENCY = 4


def concurrency() -> int:
    return max(1, int(os.environ.get("MSC_FAULT_CONCURRENCY", str(DEFAULT_CONCURRENCY))))


@dataclass(frozen=True)
class SessionOptions:
    """What every session of one table uses (picklable: sent to the worker processes)."""

    heartbeat_s: float
    heartbeat_timeout_s: float
    #: scales the session's arrival waits (a mutant that never delivers costs one wait per step)
    timeout_multiplier: float
    run_deadline_s: float


@dataclass
class RunOutcome:
    results: list[Result] = field(default_factory=list)
    problem: str | None = None  # the run itself failed (server did not start, suite raised)
    duration_s: float = 0.0

    def by_requirement(self, requirement: str) -> list[Result]:
        return [r for r in self.results if r.requirement == requirement]

    def errors(self) -> list[Result]:
        return [r for r in self.results if r.verdict is Verdict.ERROR]


async def run_one(fault: str | None, options: SessionOptions) -> RunOutcome:
    """One whole session against ``--fault FAULT`` (None: the faithful server)."""
    started = time.monotonic()
    outcome = await _run(fault, options)
    outcome.duration_s = time.monotonic() - started
    return outcome


async def _run(fault: str | None, options: SessionOptions) -> RunOutcome:
    args = ["--fault", fault] if fault else []
    server: EmbeddedServer | None = None
    try:
        server = await asyncio.to_thread(
            start_embedded,
            heartbeat_s=options.heartbeat_s,
            extra_args=args,
            startup_timeout_s=scaled(30),
        )
        alice, bob = server.accounts[0], server.accounts[1]
        settings = Settings(
            target=server.url,
            token=alice.token,
            second_token=bob.token,
            heartbeat_timeout_s=options.heartbeat_timeout_s,
            timeout_multiplier=options.timeout_multiplier,
        )
        # Discovery is setup, not a judged wait: its budget is the self-tests' own (a 3 s
        # connect timeout once failed a mutant on a loaded machine).
        target = await discover(dataclasses.replace(settings, timeout_multiplier=scaled(1.0)))
        outcome = await asyncio.wait_for(run_session(settings, target), options.run_deadline_s)
        return RunOutcome(results=[*outcome.results.values(), *outcome.extra_results])
    except Exception as exc:  # reported per case: one broken run must not hide the others
        return RunOutcome(problem=f"{type(exc).__name__}: {exc}")
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)


def _worker_session(fault: str, options: SessionOptions) -> RunOutcome:
    return asyncio.run(run_one(fault, options))


def _worker_init(coverage_config: dict[str, Any] | None) -> None:
    """Measure this worker when the parent is measured (saved at exit, combined by pytest-cov)."""
    if coverage_config is None:
        return
    import coverage

    cov = coverage.Coverage(data_suffix=True, **coverage_config)
    cov.start()

    def save() -> None:
        cov.stop()
        cov.save()

    atexit.register(save)


def _coverage_config() -> dict[str, Any] | None:
    try:
        import coverage
    except ImportError:
        return None
    current = coverage.Coverage.current()
    if current is None:
        return None
    config = current.config
    return {
        "data_file": os.path.abspath(config.data_file),
        "source": config.source,
        "branch": config.branch,
        "config_file": config.config_file or False,
    }


async def run_all(
    faults: Iterable[str], options: SessionOptions, *, workers: int | None = None
) -> dict[str | None, RunOutcome]:
    """The baseline (key None) alone and in this process, then every fault in worker processes."""
    outcomes: dict[str | None, RunOutcome] = {None: await run_one(None, options)}
    chosen = list(faults)
    if not chosen:
        return outcomes
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(
        max_workers=min(workers or concurrency(), len(chosen)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(_coverage_config(),),
    ) as pool:
        futures = [loop.run_in_executor(pool, _worker_session, f, options) for f in chosen]
        done = await asyncio.gather(*futures, return_exceptions=True)
    for fault, outcome in zip(chosen, done, strict=True):
        if isinstance(outcome, BaseException):  # the worker itself died: one case says so
            outcome = RunOutcome(problem=f"worker process: {type(outcome).__name__}: {outcome}")
        outcomes[fault] = outcome
    return outcomes
