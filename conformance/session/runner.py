"""The live session: open the planned connections, stimulate, wait on barriers, judge.

Cost model: the held streams are open concurrently (within ``--max-connections``; beyond it in
batches, ``batches.py``) and every wait is a condition with a deadline, so a full run takes
about one SSE heartbeat window per batch (plus one WS ping interval with ``--long``), not one
per case. The stimulus driver's ``cleanup()`` runs in ``finally``: a failure, a timeout or
Ctrl-C still removes what the run created. Judging happens after everything is closed, from the
transcripts, the stimulus log and the run's ``RunContext``, through ``judge.pipeline.judge_run``:
the same call ``replay`` makes on the saved run.

Phases, one module each: ``setup`` (driver, needs, streaming probe, retry policy), ``opening``
(connection lifecycle), ``stimulation`` (warm-up, steps, arrivals), ``keepalive`` (heartbeat,
ping and ``--long`` windows); ``state.LiveRun`` is what they share.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from conformance.config import Settings
from conformance.discovery import TargetInfo
from conformance.judge import judge_run, planned_results
from conformance.matrix.delivery_log import DeliveryLog
from conformance.matrix.run_context import RunContext
from conformance.matrix.steps import WARMUP, steps_for
from conformance.matrix.stimulus_log import build_stimulus_log
from conformance.redact import Redactor
from conformance.session.batches import OpenSlots, batch_steps, observed_by, plan_batches
from conformance.session.keepalive import hold, ping_timeout
from conformance.session.opening import (
    close_all,
    close_connections,
    fully_excluded,
    honour_cancel,
    is_one_shot,
    mixed_case,
    open_connections,
    prepare_connections,
    subscribe,
)
from conformance.session.plan import connections, plan_cases, plan_meta
from conformance.session.progress import Progress
from conformance.session.recorder import LiveConnection
from conformance.session.setup import check_streaming, prepare
from conformance.session.state import LiveRun
from conformance.session.stimulation import observe, stimulate
from conformance.stimulus.base import Driver
from conformance.tls import client_tls
from conformance.transcript.model import Transcript
from conformance.verdicts import Result


@dataclass(repr=False)
class SessionOutcome:
    """One session's judged results and recording.

    Its repr is a one-line summary, never the dataclass's field-by-field dump: asyncio formats
    the repr of ``asyncio.run``'s finished main task (whose result this is) when it restores the
    SIGINT handler, and dumping every transcript there cost ~0.1 s per run."""

    results: dict[str, Result]
    extra_results: list[Result] = field(default_factory=list)
    transcripts: list[Transcript] = field(default_factory=list)
    started_at: str = ""
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    #: the stimulus log (``matrix/stimulus_log.py``), redacted; saved as transcripts/_stimuli.jsonl
    stimuli: Transcript | None = None
    #: what the stimulus driver's cleanup could not remove (report.json ``cleanup_not_removed``)
    cleanup_not_removed: list[str] = field(default_factory=list)
    #: case id -> why it was not judged (``RunContext.unjudged``): an ``observed[<key>]`` case
    #: of a connection never opened says so instead of "no check beyond the plan"
    unjudged: dict[str, str] = field(default_factory=dict)
    #: seconds per phase, in order (``setup``, ``opening``, ..., ``closing``, ``judging`` with
    #: the driver's cleanup beside it; a batched run repeats its phases per batch): where a
    #: session's time goes (``bench/bench_session_phases.py``)
    phase_s: list[tuple[str, float]] = field(default_factory=list)
    #: the most connections open at once (never above ``--max-connections``)
    peak_open: int = 0

    def __repr__(self) -> str:
        return (
            f"<SessionOutcome {len(self.results)} results, {len(self.extra_results)} extra, "
            f"{len(self.transcripts)} transcripts, {self.duration_s:.3f} s>"
        )


async def run_session(settings: Settings, target: TargetInfo) -> SessionOutcome:
    """Record and judge one live run; one Result per planned case, always."""
    started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    t0 = time.monotonic()
    cases = plan_cases(settings)
    run = LiveRun(
        settings=settings,
        target=target,
        cases=cases,
        tag=f"msc{secrets.token_hex(5)}",
        mult=max(settings.timeout_multiplier or 1.0, 0.1),
        available=set(),
    )
    redactor = Redactor(settings.secrets())
    driver: Driver | None = None
    verify = client_tls(True) if _verify(settings, target) else False
    client = httpx.AsyncClient(verify=verify, timeout=run.seconds(10.0))
    progress = Progress(run)
    failed = True
    try:
        async with progress:
            progress.phase("setup")
            await check_streaming(run, client)
            driver, setup_tokens = (None, {}) if run.no_streaming else await prepare(run, client)
            redactor = redactor.extend(setup_tokens.values())
            factories = prepare_connections(run, client, redactor, setup_tokens)
            await record(run, factories, driver, progress)
            progress.phase("closing")
        failed = False
    finally:
        await close_all(run)
        cleaning = asyncio.ensure_future(_clean_up(driver, client))
        if failed:  # an error or Ctrl-C: nothing to judge, only to clean up
            await asyncio.shield(cleaning)
    run.phase_stamps.append(("judging", time.monotonic()))
    try:
        transcripts = {
            k: redactor.transcript(c.transcript)
            for k, c in run.live.items()
            if c.transcript is not None
        }
        context = run_context(run, transcripts)
        # The judges (CPU) work in a thread while the driver's cleanup (REST deletes: waiting
        # on the server) runs here; neither reads what the other writes.
        judged = await asyncio.to_thread(judge_run, transcripts, run.log, context)
    finally:
        await asyncio.shield(cleaning)
    planned = {c.id for c in cases}
    stimuli = build_stimulus_log(
        run.log,
        cases,
        list(getattr(driver, "records", None) or []),
        server={"version": target.version},
        started_at=getattr(driver, "started_at", None) or started_at,
        context=context,
    )
    return SessionOutcome(
        stimuli=redactor.transcript(stimuli),
        results={r.id: r for r in judged if r.id in planned},
        extra_results=[r for r in judged if r.id not in planned],
        transcripts=list(transcripts.values()),
        started_at=started_at,
        duration_s=time.monotonic() - t0,
        notes=run.notes,
        cleanup_not_removed=[
            redactor.text(str(x)) for x in getattr(driver, "leftovers", None) or []
        ],
        phase_s=_phase_seconds(run.phase_stamps, time.monotonic()),
        peak_open=run.peak_open,
        unjudged=dict(context.unjudged),
    )


async def _clean_up(driver: Driver | None, client: httpx.AsyncClient) -> None:
    """Remove what the run created (shielded: also when interrupted), then close the client."""
    try:
        if driver is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(driver.cleanup())
    finally:
        await client.aclose()


def _phase_seconds(stamps: list[tuple[str, float]], end: float) -> list[tuple[str, float]]:
    """Each phase's duration: from its stamp to the next one (the last to ``end``)."""
    ends = [t for _, t in stamps[1:]] + [end]
    return [(name, round(e - t, 4)) for (name, t), e in zip(stamps, ends, strict=True)]


async def record(
    run: LiveRun,
    factories: dict[str, Callable[[], LiveConnection]],
    driver: Driver | None,
    progress: Progress,
) -> None:
    """Open, stimulate, hold and close every connection within ``--max-connections``: the
    one-shot probes (each gives its slot back once answered) and the held streams, in batches
    when they do not fit at once (``batches``: each batch is a whole small run)."""
    s = run.settings
    planned = [c for c in connections(s) if c.key in factories]
    probes = [c.key for c in planned if is_one_shot(c)]
    slots = OpenSlots(s.max_connections)
    batches = plan_batches([c for c in planned if not is_one_shot(c)], slots.limit)
    if len(batches) > 1:
        held = sum(len(b) for b in batches)
        run.notes.append(
            f"--max-connections {slots.limit}: {held} held streams in {len(batches)} batches"
        )
    main_log = run.log
    # One batch: its streams take their slots first and the probes use the rest while the
    # streams are stimulated (no probe stands between opening and the first heartbeat). Several:
    # the probes go first, so the first batch does not wait on probes for a slot.
    streams_first = len(batches) == 1
    first = (
        asyncio.ensure_future(open_connections(run, factories, [c.key for c in batches[0]], slots))
        if streams_first
        else None
    )
    probing = asyncio.ensure_future(open_connections(run, factories, probes, slots, one_shot=True))
    try:
        for i, batch in enumerate(batches):
            label = f" (batch {i + 1} of {len(batches)})" if len(batches) > 1 else ""
            keys = [c.key for c in batch]
            progress.phase("opening" + label)
            if i > 0:
                run.log = DeliveryLog(not_run_reason=main_log.not_run_reason)
                if driver is not None and (rewind := getattr(driver, "rewind", None)):
                    await rewind()
            if first is not None:
                await first
            else:
                await asyncio.gather(open_connections(run, factories, keys, slots), probing)
            honour_cancel()
            await subscribe(run)
            if driver is not None:
                progress.phase("stimulating" + label)
                if len(batches) == 1:
                    await stimulate(run, driver)
                else:
                    seen = observed_by(batch)
                    await stimulate(
                        run,
                        driver,
                        batch_steps(steps_for(s), seen),
                        batch_steps(WARMUP, seen),
                    )
            elif s.read_only:
                progress.phase("observing" + label, run.seconds(s.observe_seconds))
                await observe(run)
            await probing  # answered by now (the keep-alive windows are the streams' alone)
            honour_cancel()
            progress.phase("keep-alive windows" + label, hold_seconds(run))
            await hold(run)
            honour_cancel()
            progress.phase("closing" + label)
            await close_connections(run, keys, slots)
            if i > 0 and driver is not None:
                main_log.batches.update({key: run.log.outcomes for key in keys})
                main_log.mux_unsubscribed_after = (
                    main_log.mux_unsubscribed_after or run.log.mux_unsubscribed_after
                )
        await probing  # also when no stream was planned
    finally:
        run.log = main_log
        for task in (first, probing):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
    run.peak_open = slots.peak


def _verify(settings: Settings, target: TargetInfo) -> bool:
    """``--insecure`` or not, for the session's HTTP client. httpx reads the CA bundle when a
    client is made (about 0.1 s of CPU); a target whose REST and streaming URLs are both plain
    ``http`` never uses it (redirects are not followed), so that run skips reading it."""
    urls = (target.base_url, target.streaming_base)
    if not any(str(u).lower().startswith("https:") for u in urls):
        return False
    return settings.verify_tls


def hold_seconds(run: LiveRun) -> float:
    """The longest the keep-alive phase can take (for the progress line's seconds left)."""
    longest = float(run.settings.heartbeat_timeout_s)  # unscaled, as keepalive.hold waits
    if run.settings.long:
        longest = max(longest, 2 * ping_timeout(run))
    return longest


def run_context(run: LiveRun, transcripts: dict[str, Transcript]) -> RunContext:
    """What the judges need to know about this run besides its transcripts (saved with the
    stimulus log, so replay judges from the same facts)."""
    unjudged: dict[str, str] = {}
    for conn in connections(run.settings):
        if conn.key in run.skipped:
            for p in planned_results(plan_meta(conn, run.settings)):
                unjudged.setdefault(p.id, f"{conn.key} not opened: {run.skipped[conn.key]}")
            unjudged[f"observed[{conn.key}]"] = f"{conn.key} not opened: {run.skipped[conn.key]}"
    return RunContext(
        plan=tuple(run.cases),
        server_version=run.settings.api_version or run.target.version,
        long=run.settings.long,
        available=frozenset(run.available),
        unjudged=unjudged,
        setup_failures={
            key: c.setup_failure
            for key, c in run.live.items()
            if c.setup_failure and key in transcripts
        },
        run_level_only=frozenset(k for k, c in run.live.items() if c.conn.role == "revocable"),
        connection_keys=tuple(conn.key for conn in connections(run.settings)),
        timeout_multiplier=run.mult,
        pruned=dict(run.pruned),
    )


__all__ = ["SessionOutcome", "fully_excluded", "mixed_case", "run_context", "run_session"]
