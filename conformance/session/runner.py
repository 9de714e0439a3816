"""The live session: open every planned connection at once, stimulate, wait on barriers, judge.

Cost model: all streams are open concurrently and every wait is a condition with a deadline, so
a full run takes about one SSE heartbeat window (plus one WS ping interval with ``--long``), not
one per case. The stimulus driver's ``cleanup()`` runs in ``finally``: a failure, a timeout or
Ctrl-C still removes what the run created. Judging happens after everything is closed, from the
transcripts alone (per-transcript judges) plus the stimulus log (delivery judge).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import time
import warnings
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from conformance.judge.delivery import DeliveryLog, Seen, StepOutcome, judge_delivery, matches
from conformance.judge.discovery import judge_discovery
from conformance.redact import Redactor
from conformance.selection import id_glob, matches_any
from conformance.session.capabilities import (
    NO_STREAMING_URL,
    advertised_streaming_url,
    gated_steps,
)
from conformance.session.plan import (
    EXTRA_ARRIVALS,
    HASHTAG_CASE_KEYS,
    LIST,
    MIXED_TAG,
    MUX_SUBSCRIPTIONS,
    MUX_UNSUBSCRIBED,
    OTHER_TAG,
    STEPS,
    TAG,
    WARMUP,
    Connection,
    PlannedCase,
    Step,
    connections,
    plan_cases,
    plan_meta,
    steps_for,
)
from conformance.session.recorder import LiveConnection, resolve_token, wait_seconds
from conformance.session.stimulus_log import build_stimulus_log
from conformance.stimulus.base import Driver, Produced, ScenarioUnsupported, StimulusError
from conformance.transcript.model import Meta, Transcript
from conformance.transports.setup_retry import (
    RETRY_STATUSES,
    RetryPolicy,
    SetupProblem,
    retry_after_seconds,
)
from conformance.verdicts import Level, Result, Verdict, verdict_for_violation

log = logging.getLogger(__name__)

_RANK = {
    Verdict.NOT_EXERCISED: 0,
    Verdict.PASS: 1,
    Verdict.INFO: 2,
    Verdict.WARN: 3,
    Verdict.ERROR: 4,
    Verdict.FAIL: 5,
}


@dataclass
class SessionOutcome:
    results: dict[str, Result]
    extra_results: list[Result] = field(default_factory=list)
    transcripts: list[Transcript] = field(default_factory=list)
    started_at: str = ""
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    #: the stimulus log (``session/stimulus_log.py``), redacted; saved as transcripts/_stimuli.jsonl
    stimuli: Transcript | None = None


@dataclass
class _Run:
    settings: Any
    target: Any
    tag: str
    mult: float
    available: set[str]
    cases: list[PlannedCase] = field(default_factory=list)
    live: dict[str, LiveConnection] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    log: DeliveryLog = field(default_factory=DeliveryLog)
    notes: list[str] = field(default_factory=list)
    waits: list[tuple[str, Step, Produced]] = field(default_factory=list)
    list_id: str | None = None
    gated: dict[str, str] = field(default_factory=dict)  # step key -> why the target lacks it
    #: set when the target advertises no streaming URL and its origin does not stream either
    no_streaming: str | None = None
    #: the origin probed for an unadvertised streaming API: {"origin", "health_status"}
    streaming_fallback: dict[str, Any] | None = None

    def seconds(self, base: float) -> float:
        return base * self.mult


# --- entry point ---------------------------------------------------------------------------


async def run_session(settings: Any, target: Any) -> SessionOutcome:
    """Record and judge one live run; one Result per planned case, always."""
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.monotonic()
    cases = plan_cases(settings)
    run = _Run(
        settings=settings,
        target=target,
        cases=cases,
        tag=f"msc{secrets.token_hex(5)}",
        mult=max(float(getattr(settings, "timeout_multiplier", 1.0) or 1.0), 0.1),
        available=set(),
    )
    redactor = Redactor(_secrets(settings))
    driver: Driver | None = None
    client = httpx.AsyncClient(
        verify=bool(getattr(settings, "verify_tls", True)), timeout=run.seconds(10.0)
    )
    try:
        await _check_streaming(run, client)
        driver, setup_tokens = (None, {}) if run.no_streaming else await _prepare(run, client)
        redactor = redactor.extend(setup_tokens.values())
        await _open_all(run, client, redactor, setup_tokens)
        _honour_cancel()
        await _subscribe(run)
        if driver is not None:
            await _stimulate(run, driver)
        elif getattr(settings, "read_only", False):
            await _observe(run)
        _honour_cancel()
        await _hold(run)
        _honour_cancel()
    finally:
        await _close_all(run)
        if driver is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(driver.cleanup())
        await client.aclose()
    transcripts = {
        k: redactor.transcript(c.transcript)
        for k, c in run.live.items()
        if c.transcript is not None
    }
    results, extras = _judge(run, cases, transcripts)
    stimuli = build_stimulus_log(
        run.log,
        cases,
        list(getattr(driver, "records", None) or []),
        server={"version": getattr(target, "version", None)},
        started_at=started_at,
    )
    return SessionOutcome(
        stimuli=redactor.transcript(stimuli),
        results=results,
        extra_results=extras,
        transcripts=list(transcripts.values()),
        started_at=started_at,
        duration_s=time.monotonic() - t0,
        notes=run.notes,
    )


def _secrets(settings: Any) -> list[str]:
    fn = getattr(settings, "secrets", None)
    if callable(fn):
        return [s for s in fn() if s]
    return [
        s for s in (getattr(settings, "token", None), getattr(settings, "second_token", None)) if s
    ]


# --- setup ---------------------------------------------------------------------------------


async def _prepare(run: _Run, client: httpx.AsyncClient) -> tuple[Driver | None, dict[str, str]]:
    """Pick and set up the stimulus driver; decide which needs this run can meet."""
    s, target = run.settings, run.target
    if getattr(s, "long", False):
        run.available.add("long")
    allow_public = (
        s.allow_public_posts if s.allow_public_posts is not None else (not target.is_public_host)
    )
    if allow_public:
        run.available.add("public-posts")
    if target.is_reference:
        run.available.add("reference")
    if s.list_id:
        run.available.add("list")
    if s.read_only:
        run.log.not_run_reason = "--read-only: the run makes no writes"
        run.available.discard("public-posts")
        return None, {}
    driver: Driver | None = None
    if s.stimulus == "none":
        run.log.not_run_reason = "--stimulus none"
    elif s.stimulus == "redis":
        driver = _redis_driver(run)
    elif not (s.token and s.second_token):
        run.log.not_run_reason = "the REST stimulus needs --token and --second-token"
    else:
        from conformance.stimulus.rest import RestDriver

        driver = RestDriver(
            client,
            target.base_url,
            s.token,
            s.second_token,
            allow_public_posts=bool(allow_public),
            reference_extras=bool(target.is_reference),
            list_id=s.list_id,
            tag=run.tag,
            request_timeout_s=run.seconds(10.0),
        )
    if driver is None:
        return None, {}
    try:
        info = await asyncio.wait_for(driver.setup(), run.seconds(30.0))
    except (StimulusError, TimeoutError) as exc:
        run.log.not_run_reason = f"stimulus setup failed: {exc}"
        run.notes.append(run.log.not_run_reason)
        with contextlib.suppress(Exception):
            await driver.cleanup()
        return None, {}
    run.available.add("rest")  # "a driver is active" (the plan calls it rest)
    run.available.add(s.stimulus)
    run.gated = gated_steps(target.version, run.available)
    if info.list_id:
        run.available.add("list")
        run.list_id = info.list_id
    run.notes.extend(info.notes)
    return driver, dict(info.tokens)


def _redis_driver(run: _Run) -> Driver | None:
    try:
        from conformance.stimulus.redis import RedisDriver  # type: ignore[import-not-found]
    except ImportError:
        run.log.not_run_reason = "the Redis stimulus driver is not available"
        return None
    try:
        return RedisDriver.from_settings(run.settings, run.target)  # type: ignore[no-any-return]
    except Exception as exc:
        run.log.not_run_reason = f"the Redis stimulus driver could not start: {exc}"
        return None


def _missing(run: _Run, conn: Connection, tokens: dict[str, str]) -> str | None:
    for need in sorted(conn.needs):
        if need not in run.available:
            return {
                "list": "no list id (give --list-id, or let the REST stimulus create one)",
                "reference": "needs the reference server's /_reference extras",
                "rest": "needs an active stimulus driver",
                "long": "needs --long",
            }.get(need, f"needs {need}")
    if conn.token not in ("a", "b", "none", "invalid") and conn.token not in tokens:
        return f"no {conn.token} token could be minted on this target"
    if conn.token == "b" and not run.settings.second_token:
        return "needs --second-token"
    if conn.token == "a" and not run.settings.token:
        return "needs --token"
    return None


def fully_excluded(
    conns: Iterable[Connection], cases: Iterable[PlannedCase], patterns: Iterable[str]
) -> set[str]:
    """Keys of the connections all of whose cases ``--exclude`` names: not opened at all.

    A case serves a connection when its id's parameter is the connection's key, or starts with
    it and a ``-`` (``[sse-public-update]``). The match is deliberately generous: a case claimed
    by two connections keeps both open, so an exclusion can only ever save a connection.
    """
    globs = [id_glob(p) for p in patterns]
    if not globs:
        return set()
    params = [(c.id[c.id.find("[") + 1 : -1], c) for c in cases if c.id.endswith("]")]
    out: set[str] = set()
    for conn in conns:
        served = [c for p, c in params if p == conn.key or p.startswith(conn.key + "-")]
        if served and all(matches_any(globs, c.id, c.requirement) for c in served):
            out.add(conn.key)
    return out


async def _open_all(
    run: _Run, client: httpx.AsyncClient, redactor: Redactor, tokens: dict[str, str]
) -> None:
    s = run.settings
    list_id = run.list_id or s.list_id or ""
    resolve = {
        TAG: run.tag,
        OTHER_TAG: f"{run.tag}other",
        MIXED_TAG: mixed_case(run.tag),
        LIST: list_id,
    }
    server = {"version": run.target.version}
    no_url = run.no_streaming
    retry = _retry_policy(run)
    excluded = fully_excluded(connections(s), run.cases, getattr(s, "exclude", ()))
    for conn in connections(s):
        reason = no_url if no_url and conn.base != "web" else _missing(run, conn, tokens)
        if not reason and conn.key in excluded:
            reason = "every case it serves is excluded (--exclude)"
        if reason:
            run.skipped[conn.key] = reason
            continue
        planned = plan_meta(conn, s)
        context = conn.context(
            heartbeat_timeout_s=float(s.heartbeat_timeout_s),
            expect_events=planned.context["expect_events"],
            resolve=resolve,
            ping_timeout_s=_ping_timeout(run),
        )
        if conn.base == "web" and run.streaming_fallback is not None:
            context = {**context, "streaming_fallback": run.streaming_fallback}
        meta = Meta(
            id=conn.key,
            transport=conn.transport,
            request={},
            context=context,
            server=server,
        )
        run.live[conn.key] = LiveConnection(
            conn,
            meta,
            client=client,
            http_base=run.target.streaming_base,
            web_base=run.target.base_url,
            ws_base=run.target.ws_base,
            token=resolve_token(conn.token, s, tokens),
            redactor=redactor,
            connect_timeout_s=run.seconds(10.0),
            idle_timeout_s=max(run.seconds(60.0), float(s.heartbeat_timeout_s) * 3),
            retry=retry,
        )
    # every attempt gets the usual setup bound; each retry adds its longest wait
    budget = run.seconds(30.0) + (retry.max_attempts - 1) * (retry.max_wait_s + run.seconds(10.0))
    await _gather_bounded([c.start() for c in run.live.values()], budget)
    for key, c in run.live.items():
        if c.setup_failure:
            run.notes.append(f"{key}: {c.setup_failure}")
        elif c.attempts > 1:
            run.notes.append(f"{key} opened after {c.attempts} attempts")
        if c.conn.purpose == "stream" and not c.is_open:
            run.notes.append(f"{key} did not open")


def _retry_policy(run: _Run) -> RetryPolicy:
    """Connection-setup retries (``transports/setup_retry.py``), scaled like every deadline."""
    s = run.settings
    return RetryPolicy(
        max_attempts=max(1, int(getattr(s, "max_setup_attempts", 3) or 1)),
        max_wait_s=run.seconds(float(getattr(s, "max_retry_wait_s", 30.0))),
        initial_backoff_s=run.seconds(1.0),
    )


async def _probe_health(run: _Run, client: httpx.AsyncClient, url: str) -> tuple[int | None, str]:
    """(status or None, what happened) of GET ``url``; rate limits and connect failures are
    retried like any connection setup."""
    policy = _retry_policy(run)
    attempt = 0
    while True:
        attempt += 1
        problem: SetupProblem | None = None
        try:
            response = await client.get(url, timeout=run.seconds(10.0))
        except httpx.TransportError as exc:
            problem = SetupProblem(summary=f"{type(exc).__name__}")
            status = None
        else:
            status = response.status_code
            raw = response.headers.get("retry-after")
            if status in RETRY_STATUSES:
                problem = SetupProblem(
                    summary=f"{status} {response.reason_phrase}",
                    retry_after_s=retry_after_seconds(raw),
                    retry_after_raw=raw,
                )
        if problem is None:
            return status, f"HTTP {status}"
        delay = policy.delay(problem, attempt)
        if delay is None:
            return status, policy.give_up_message(problem, attempt)
        await wait_seconds(delay)


def mixed_case(tag: str) -> str:
    """``msc1a2b`` -> ``MsC1A2B``: every other letter upper-cased, so case matters."""
    return "".join(c.upper() if i % 2 == 0 else c for i, c in enumerate(tag))


def _streaming_unadvertised(run: _Run) -> bool:
    """Whether the target advertises no streaming URL and --streaming-url did not name one."""
    target = run.target
    if getattr(run.settings, "streaming_url", None) or getattr(target, "embedded", False):
        return False
    if getattr(target, "streaming_advertised", True) is False:
        return True
    instance = getattr(target, "instance", None)
    if not isinstance(instance, dict) or not instance:
        return False  # nothing read: discovery found the URL some other way
    return advertised_streaming_url(instance) is None


async def _check_streaming(run: _Run, client: httpx.AsyncClient) -> None:
    """A target that advertises no streaming URL may still stream where Mastodon serves it by
    default (the origin, behind nginx): probe its health endpoint. Answering 200 means run
    normally (and the missing advertisement is reported against discovery); otherwise every
    streaming connection is not_exercised with the reason, and nothing is stimulated."""
    if not _streaming_unadvertised(run):
        return
    origin = str(run.target.streaming_base).rstrip("/")
    url = origin + "/api/v1/streaming/health"
    status, detail = await _probe_health(run, client, url)
    if status == 200:
        run.streaming_fallback = {"origin": origin, "health_status": status}
        run.notes.append(f"{NO_STREAMING_URL}; {url} answers 200, so the run streams from {origin}")
        return
    run.no_streaming = f"{NO_STREAMING_URL} and none found at {origin} ({url}: {detail})"
    run.streaming_fallback = {"origin": origin, "health_status": status}
    run.log.not_run_reason = run.no_streaming
    run.notes.append(run.no_streaming)
    # Surfaces in pytest's warnings summary: the run exits 0 with every streaming case
    # not_exercised, and this line says why.
    warnings.warn(f"mastodon-streaming-conformance: {run.no_streaming}", stacklevel=2)


async def _subscribe(run: _Run) -> None:
    """Send the WS subscribe frames: the multiplexed socket and the bad-subscribe probes."""
    from conformance.ws.messages import subscribe_message

    for c in run.live.values():
        if c.conn.transport != "ws" or not c.is_open or not c.conn.subscriptions:
            continue
        for sub in c.meta.context.get("subscriptions", []):
            await c.recorder.send_text(
                subscribe_message(sub["stream"], tag=sub.get("tag"), list_id=sub.get("list"))
            )


async def _gather_bounded(aws: Iterable[Awaitable[Any]], deadline_s: float) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]
    if not tasks:
        return
    try:
        _done, pending = await asyncio.wait(tasks, timeout=deadline_s)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        raise
    for task in pending:
        task.cancel()
    for task in tasks:
        try:
            await task
        except asyncio.CancelledError:
            _honour_cancel()  # a child we cancelled is fine; our own cancellation is not
        except Exception as exc:  # a recorder failing to start or close is recorded, not raised
            log.debug("bounded task failed: %s", exc)


def _honour_cancel() -> None:
    """Re-raise a cancellation (Ctrl-C) that a completed ``wait_for`` swallowed (Python 3.11
    returns the inner result when it finished in the same tick), so an interrupted run stops at
    the next phase boundary instead of running to the end; cleanup still runs in ``finally``."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


# --- stimulation ---------------------------------------------------------------------------


def _conn_keys(step: Step, stream_or_key: str) -> list[str]:
    if stream_or_key.startswith(("sse-", "ws-")):
        return [stream_or_key]
    return [f"sse-{stream_or_key}", f"ws-{stream_or_key}"]


def _pred(step: Step, produced: Produced) -> Any:
    def check(event: str, payload: Any, stream: list[Any] | None) -> bool:
        return matches(step, produced, Seen(0, event, payload, stream, None))

    return check


async def _produce(
    run: _Run, driver: Driver, step: Step, params: dict[str, Any], marker: str
) -> StepOutcome:
    if step.key in run.gated:
        return StepOutcome(step.key, None, run.gated[step.key])
    for need in step.needs:
        if need not in run.available:
            reason = {
                "public-posts": "public posts are off for this target (--allow-public-posts)",
                "reference": "needs the reference server's /_reference extras",
            }.get(need, f"needs {need}")
            return StepOutcome(step.key, None, reason)
    if not driver.supports(step.scenario):
        return StepOutcome(step.key, None, driver.unsupported_reason(step.scenario))
    try:
        produced = await asyncio.wait_for(
            driver.produce(step.scenario, marker, **params), run.seconds(30.0)
        )
    except ScenarioUnsupported as exc:
        return StepOutcome(step.key, None, exc.reason)
    except (StimulusError, TimeoutError) as exc:
        run.notes.append(f"{step.key} {step.scenario}: {exc}")
        return StepOutcome(step.key, None, str(exc) or "timeout", error=True)
    return StepOutcome(step.key, produced)


async def _warm_up(run: _Run, driver: Driver) -> None:
    """Prove each subscription is live: repeat a warm-up until it shows up (max 3 rounds)."""
    pending = list(WARMUP)
    for round_no in range(3):
        _honour_cancel()
        if not pending:
            return
        waits: list[tuple[Step, Awaitable[bool]]] = []
        for step in pending:
            outcome = await _produce(
                run, driver, step, {"tag": run.tag}, f"{run.tag}-{step.key.lower()}{round_no}"
            )
            if outcome.produced is None:
                continue
            targets = [*step.arrive]
            if step.key == "W-media":
                targets.append("ws-multiplex")
            for target in targets:
                for key in _conn_keys(step, target):
                    c = run.live.get(key)
                    if c is not None and c.is_open:
                        waits.append(
                            (
                                step,
                                c.wait_event(
                                    _pred(step, outcome.produced),
                                    run.seconds(3.0 + 2 * round_no),
                                    f"warm-up {step.key} on {key}",
                                ),
                            )
                        )
        got = await asyncio.gather(*(w for _, w in waits))
        pending = list({s.key: s for (s, _), ok in zip(waits, got, strict=True) if not ok}.values())
    if pending:
        run.notes.append(f"warm-up incomplete for {[s.key for s in pending]}")


async def _wait_arrivals(run: _Run, deadline_s: float) -> None:
    """Wait for every expected arrival registered so far (all concurrently, one deadline)."""
    waits = []
    pending, run.waits = run.waits, []  # each expected arrival is awaited once, then judged
    for key, step, produced in pending:
        c = run.live.get(key)
        if c is not None and c.is_open:
            waits.append(
                c.wait_event(
                    _pred(step, produced), deadline_s, f"{step.event} for {step.key} on {key}"
                )
            )
    await asyncio.gather(*waits)


def _register(run: _Run, step: Step, produced: Produced) -> None:
    targets: list[str] = list(step.arrive) + list(EXTRA_ARRIVALS.get(step.key, ()))
    if step.key == "P":
        targets += HASHTAG_CASE_KEYS.values()
    target_key = produced.detail.get("target_step")
    for target in targets:
        for key in _conn_keys(step, target):
            if target_key and key in run.live:  # only where the status itself arrived
                t_out = run.log.outcomes.get(target_key)
                if t_out is None or t_out.produced is None:
                    continue
                tstep = next(s for s in STEPS if s.key == target_key)
                if not any(_pred(tstep, t_out.produced)(*e) for e in run.live[key].events()):
                    continue
            run.waits.append((key, step, produced))


def _params(run: _Run, step: Step) -> tuple[dict[str, Any] | None, str, str | None]:
    """Resolve ``@KEY.role`` params and ``targets``; (None, reason) if a dependency is missing."""
    params: dict[str, Any] = {"tag": run.tag}
    for name, value in step.params:
        if isinstance(value, str) and value.startswith("@"):
            ref_key, _, role = value[1:].partition(".")
            out = run.log.outcomes.get(ref_key)
            if out is None or out.produced is None or not out.produced.ids.get(role):
                return None, f"depends on {ref_key}, which did not run", None
            params[name] = out.produced.ids[role]
        elif value == OTHER_TAG:
            params[name] = f"{run.tag}other"
        else:
            params[name] = value
    target_key = None
    if step.targets:
        for key in step.targets:
            out = run.log.outcomes.get(key)
            if out is not None and out.produced is not None:
                target_key = key
                params["status_id"] = out.produced.ids["status"]
                params["author"] = out.produced.detail.get("author", "b")
                params["tag"] = run.tag
                break
        if target_key is None:
            return None, f"none of {list(step.targets)} was created", None
    return params, "", target_key


async def _stimulate(run: _Run, driver: Driver) -> None:
    await _warm_up(run, driver)
    arrival_deadline = run.seconds(10.0)
    for step in steps_for(run.settings):
        _honour_cancel()
        if step.sync_before or step.arrive_from:
            await _wait_arrivals(run, arrival_deadline)
        params, reason, target_key = _params(run, step)
        if params is None:
            run.log.outcomes[step.key] = StepOutcome(step.key, None, reason)
            continue
        outcome = await _produce(run, driver, step, params, f"{run.tag}-{step.key.lower()}")
        if outcome.produced is not None and target_key:
            produced = dataclasses.replace(
                outcome.produced, detail={**outcome.produced.detail, "target_step": target_key}
            )
            outcome = dataclasses.replace(outcome, produced=produced)
        run.log.outcomes[step.key] = outcome
        if outcome.produced is None:
            continue
        _register(run, step, outcome.produced)
        if step.key == "P":
            await _unsubscribe_mux(run, step, outcome.produced)
        if step.scenario == "token.revoke":
            await _wait_revoked(run)
    await _wait_arrivals(run, arrival_deadline)


async def _unsubscribe_mux(run: _Run, step: Step, produced: Produced) -> None:
    """After P reached the multiplexed socket on every subscription, drop one of them."""
    from conformance.ws.messages import unsubscribe_message

    mux = run.live.get("ws-multiplex")
    if mux is None or not mux.is_open:
        return
    wanted = {dict(s)["stream"] for s in MUX_SUBSCRIPTIONS}
    pred = _pred(step, produced)

    def all_there(_e: str, _p: Any, _s: Any) -> bool:
        got = {s[0] for e, p, s in mux.events() if s and pred(e, p, s)}
        return wanted <= got

    await mux.wait_event(all_there, run.seconds(10.0), "P on every multiplexed stream")
    await mux.recorder.send_text(unsubscribe_message(MUX_UNSUBSCRIBED))
    run.log.mux_unsubscribed_after = step.key


async def _wait_revoked(run: _Run) -> None:
    waits = []
    for key in ("sse-user-revocable", "ws-user-revocable"):
        c = run.live.get(key)
        if c is None or c.recorder is None:
            continue
        if c.conn.transport == "ws":
            waits.append(c.recorder.wait_closed(run.seconds(5.0)))
        else:
            waits.append(
                c.recorder.wait_for(
                    lambda _i: False, run.seconds(5.0), what="stream end after revocation"
                )
            )
    await asyncio.gather(*waits)


async def _observe(run: _Run) -> None:
    """Read-only: just listen on the public streams for --observe-seconds."""
    c = run.live.get("sse-public")
    if c is not None and c.recorder is not None:
        await c.recorder.wait_for(
            lambda _i: False,
            float(run.settings.observe_seconds),
            what="read-only observation window",
        )


# --- keep-alive window ---------------------------------------------------------------------


def _heartbeat_seen(items: Any) -> bool:
    from conformance.sse.events import Comment

    comments = [i for i in items if isinstance(i, Comment)]
    return len(comments) >= 2 or any(c.text.strip() not in ("", ")") for c in comments)


def _ping_timeout(run: _Run) -> float:
    return float(getattr(run.settings, "ping_timeout_s", 35.0)) * run.mult


async def _hold(run: _Run) -> None:
    """Keep streams open until each saw a heartbeat (bounded by the heartbeat timeout), ping
    every WS, send the binary probe, and with --long wait for server pings and the no-pong cut.
    All concurrent: --long costs about one ping timeout more, not one per case."""
    s = run.settings
    hb = float(s.heartbeat_timeout_s)
    ping_timeout = _ping_timeout(run)
    waits: list[Awaitable[Any]] = []
    for c in run.live.values():
        if not c.is_open:
            continue
        if c.conn.transport == "sse" and c.conn.purpose == "stream":
            waits.append(_heartbeat_window(c, hb))
        elif c.conn.role == "binary":
            waits.append(_send_binary(run, c))
        elif c.conn.role == "server-ping":
            waits.append(_server_ping_window(c, ping_timeout))
        elif c.conn.role == "no-pong":
            # Mastodon's global timer pings within one interval and cuts at the next tick.
            waits.append(c.recorder.wait_closed(max(0.0, c.started + 2 * ping_timeout - _now())))
        elif c.conn.transport == "ws":
            waits.append(_ping(run, c))
    await asyncio.gather(*waits)


def _now() -> float:
    return time.monotonic()


def _got_ping(records: Any) -> bool:
    return any(r.kind == "ws-frame-recv" and r.fields.get("opcode") == "ping" for r in records)


async def _server_ping_window(c: LiveConnection, ping_timeout: float) -> None:
    """Hold the idle socket for one ping timeout from its upgrade: the judge needs a recording
    that long to say a server ping came (or did not) in time."""
    await c.recorder.wait_for_records(_got_ping, ping_timeout, what="server ping")
    remaining = c.started + ping_timeout + 0.25 - _now()
    if remaining > 0 and not c.recorder.ended:
        await c.recorder.wait_for_records(
            lambda _rs: bool(c.recorder.ended), remaining, what="ping window"
        )


async def _send_binary(run: _Run, c: LiveConnection) -> None:
    await c.recorder.send_binary(b"msc-binary-probe")
    await c.recorder.wait_closed(run.seconds(5.0))


async def _heartbeat_window(c: LiveConnection, hb: float) -> None:
    """Hold an SSE stream open until it shows a heartbeat, or for the whole timeout when none
    comes: a recording that holds a heartbeat already answers the judges, and waiting out the
    rest of the window would only make a run cost the timeout instead of one interval."""
    await c.recorder.wait_for(_heartbeat_seen, hb, what="heartbeat comment")


async def _ping(run: _Run, c: LiveConnection) -> None:
    await c.recorder.ping(b"msc")
    await c.recorder.wait_for_records(
        lambda rs: any(r.kind == "ws-frame-recv" and r.fields.get("opcode") == "pong" for r in rs),
        run.seconds(5.0),
        what="pong to our ping",
    )


async def _close_all(run: _Run) -> None:
    await _gather_bounded([c.close() for c in run.live.values()], run.seconds(15.0))


# --- judging -------------------------------------------------------------------------------


def _worse(a: Result, b: Result) -> Result:
    return b if _RANK[b.verdict] > _RANK[a.verdict] else a


def _judge(
    run: _Run, cases: list[PlannedCase], transcripts: dict[str, Transcript]
) -> tuple[dict[str, Result], list[Result]]:
    from conformance.judge import judge_transcript, planned_results

    planned = {c.id: c for c in cases}
    results: dict[str, Result] = {}
    extras: list[Result] = []
    reasons: dict[str, str] = {}
    for conn in connections(run.settings):
        if conn.key in run.skipped:
            for p in planned_results(plan_meta(conn, run.settings)):
                reasons.setdefault(p.id, f"{conn.key} not opened: {run.skipped[conn.key]}")
    for key, transcript in transcripts.items():
        if run.live[key].conn.role == "revocable":
            continue  # ended on purpose; judged by the delivery judge only
        try:
            judged = judge_transcript(
                transcript,
                server_version=run.target.version,
                long=bool(getattr(run.settings, "long", False)),
            )
        except Exception as exc:  # a judge bug is the suite's error, never the server's
            run.notes.append(f"judging {key} raised {type(exc).__name__}: {exc}")
            continue
        for r in judged:
            if r.id in planned:
                results[r.id] = _worse(results[r.id], r) if r.id in results else r
            else:
                extras.append(r)
    results.update(judge_delivery(transcripts, run.log, cases))
    results.update({r.id: r for r in judge_discovery(transcripts) if r.id in planned})
    _setup_failures_are_errors(run, results, transcripts)
    _unadvertised_streaming(run, results)
    for case in cases:
        if case.id not in results:
            results[case.id] = _unjudged(case, reasons.get(case.id) or _reason_for(run, case))
    return results, extras


def _setup_failures_are_errors(
    run: _Run, results: dict[str, Result], transcripts: dict[str, Transcript]
) -> None:
    """A connection whose setup was given up (rate limited, unreachable) is the environment's
    failure, never the server's answer: all its cases, delivery included, are ``error``."""
    from conformance.judge import planned_results

    for key, c in run.live.items():
        if not c.setup_failure or key not in transcripts:
            continue
        ids = {p.id for p in planned_results(transcripts[key].meta)}
        for rid, r in list(results.items()):
            if rid in ids or r.transcript == key:
                results[rid] = dataclasses.replace(
                    r, verdict=Verdict.ERROR, message=f"{key}: {c.setup_failure}", transcript=key
                )


def _unadvertised_streaming(run: _Run, results: dict[str, Result]) -> None:
    """A server that streams at its origin but advertises no streaming URL breaks clients that
    read the instance document (Tuba, Phanpy): the form case reports that per its level
    instead of "nothing to judge". (Only a live run knows the origin answered; the instance
    transcripts carry it as ``context["streaming_fallback"]``.)"""
    fallback = run.streaming_fallback
    if run.no_streaming or not fallback or fallback.get("health_status") != 200:
        return
    for rid, r in list(results.items()):
        if r.requirement != "discovery.streaming-url.form":
            continue
        if r.verdict is not Verdict.NOT_EXERCISED or "advertises no streaming URL" not in r.message:
            continue
        results[rid] = dataclasses.replace(
            r,
            verdict=verdict_for_violation(r.level),
            message=(
                f"expected the instance document to advertise the streaming URL; observed "
                f"{r.message.split(' advertises')[0]} advertises none, yet "
                f"{fallback['origin']}/api/v1/streaming/health answers 200: clients that read "
                "the advertised URL (Tuba, Phanpy) cannot find the stream"
            ),
        )


def _reason_for(run: _Run, case: PlannedCase) -> str:
    for need in sorted(case.needs):
        if need not in run.available:
            return f"this run cannot offer {need!r}"
    return "no transcript judged this case in this run"


def _unjudged(case: PlannedCase, reason: str) -> Result:
    from conformance.requirements import REGISTRY

    req = REGISTRY.get(case.requirement)
    return Result(
        id=case.id,
        requirement=case.requirement,
        verdict=Verdict.NOT_EXERCISED,
        level=req.level if req else Level.INFO,
        message=reason,
        transport=case.transport,
        stream=case.stream,
        event=case.event,
    )


__all__ = ["SessionOutcome", "run_session"]
