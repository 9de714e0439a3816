"""Stimulation: warm every subscription up, run the plan's steps through the driver, and wait
(concurrently, with deadlines) for each expected arrival before the next barrier."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Sequence
from typing import Any

from conformance.judge.delivery_latency import STEP_ACTION as STEP_DONE
from conformance.judge.delivery_match import matches
from conformance.matrix.delivery_log import Seen, StepOutcome
from conformance.matrix.keys import HASHTAG_CASE_KEYS, MUX_SUBSCRIPTIONS, MUX_UNSUBSCRIBED
from conformance.matrix.steps import EXTRA_ARRIVALS, STEPS, WARMUP, Step, steps_for
from conformance.matrix.streams import OTHER_TAG
from conformance.session.capabilities import NEED_REASONS
from conformance.session.opening import honour_cancel
from conformance.session.pruning import prune_for_selection
from conformance.session.state import LiveRun
from conformance.stimulus.base import Driver, Produced, ScenarioUnsupported, StimulusError


def _conn_keys(step: Step, stream_or_key: str) -> list[str]:
    if stream_or_key.startswith(("sse-", "ws-")):
        return [stream_or_key]
    return [f"sse-{stream_or_key}", f"ws-{stream_or_key}"]


def _pred(step: Step, produced: Produced) -> Any:
    def check(event: str, payload: Any, stream: list[Any] | None) -> bool:
        return matches(step, produced, Seen(0, event, payload, stream, None))

    return check


async def _produce(
    run: LiveRun, driver: Driver, step: Step, params: dict[str, Any], marker: str
) -> StepOutcome:
    if step.key in run.gated:
        return StepOutcome(step.key, None, run.gated[step.key])
    for need in step.needs:
        if need not in run.available:
            return StepOutcome(step.key, None, NEED_REASONS.get(need, f"needs {need}"))
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


async def _warm_up(run: LiveRun, driver: Driver, warmups: Sequence[Step] = WARMUP) -> None:
    """Prove each subscription is live: repeat a warm-up until it shows up (max 3 rounds)."""
    pending = list(warmups)
    for round_no in range(3):
        honour_cancel()
        if not pending:
            return
        waits: list[tuple[Step, Awaitable[bool]]] = []
        # independent of each other and never judged: caused at once, not one after another
        outcomes = await asyncio.gather(
            *(
                _produce(
                    run, driver, step, {"tag": run.tag}, f"{run.tag}-{step.key.lower()}{round_no}"
                )
                for step in pending
            )
        )
        for step, outcome in zip(pending, outcomes, strict=True):
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


async def _wait_arrivals(run: LiveRun, deadline_s: float) -> None:
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


def _register(run: LiveRun, step: Step, produced: Produced) -> None:
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


def _params(run: LiveRun, step: Step) -> tuple[dict[str, Any] | None, str, str | None]:
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


REVOCABLE_KEYS = ("sse-user-revocable", "ws-user-revocable")


async def stimulate(
    run: LiveRun,
    driver: Driver,
    steps: Sequence[Step] | None = None,
    warmups: Sequence[Step] = WARMUP,
) -> None:
    """Warm up, then run ``steps`` (default: the plan's, ``steps_for``) in order; a
    ``--max-connections`` batch passes the ones its connections observe (``batches``).
    Steps no selected case observes are skipped (``run.pruned``, ``session/pruning.py``)."""
    prune_for_selection(run, driver)  # sets run.pruned: what the selection does not observe
    await _warm_up(run, driver, [w for w in warmups if w.key not in run.pruned])
    arrival_deadline = run.seconds(10.0)
    for step in steps_for(run.settings) if steps is None else steps:
        honour_cancel()
        if step.key in run.pruned:
            run.log.outcomes[step.key] = StepOutcome(step.key, None, run.pruned[step.key])
            continue
        if step.sync_before or step.arrive_from:
            await _wait_arrivals(run, arrival_deadline)
        params, reason, target_key = _params(run, step)
        if params is None:
            run.log.outcomes[step.key] = StepOutcome(step.key, None, reason)
            continue
        if step.scenario == "token.revoke":  # the streams must end AFTER this point
            for key in REVOCABLE_KEYS:
                if key in run.live:
                    run.live[key].mark("token.revoke")
        outcome = await _produce(run, driver, step, params, f"{run.tag}-{step.key.lower()}")
        if outcome.produced is not None and target_key:
            produced = dataclasses.replace(
                outcome.produced, detail={**outcome.produced.detail, "target_step": target_key}
            )
            outcome = dataclasses.replace(outcome, produced=produced)
        run.log.outcomes[step.key] = outcome
        if outcome.produced is None:
            continue
        _mark_done(run, step)
        _register(run, step, outcome.produced)
        if step.key == "P":
            await _unsubscribe_mux(run, step, outcome.produced)
        if step.scenario == "token.revoke":
            await _wait_revoked(run)
    await _wait_arrivals(run, arrival_deadline)


def _mark_done(run: LiveRun, step: Step) -> None:
    """Stamp the step's completion on every open connection's own clock: the delivery deadline
    (``judge.delivery_latency``) is measured from it, on the clock its arrivals are."""
    for c in run.live.values():
        if c.is_open:
            c.mark(STEP_DONE, {"key": step.key})


async def _unsubscribe_mux(run: LiveRun, step: Step, produced: Produced) -> None:
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


async def _wait_revoked(run: LiveRun) -> None:
    waits = []
    for key in REVOCABLE_KEYS:
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


async def observe(run: LiveRun) -> None:
    """Read-only: just listen on the public streams for --observe-seconds."""
    c = run.live.get("sse-public")
    if c is not None and c.recorder is not None:
        await c.recorder.wait_for(
            lambda _i: False,
            float(run.settings.observe_seconds),
            what="read-only observation window",
        )
