"""Session setup and gating: pick and set up the stimulus driver, decide which needs the run
can meet, probe an unadvertised streaming API, and the connection-setup retry policy."""

from __future__ import annotations

import asyncio
import contextlib
import warnings

import httpx

from conformance.errors import SetupError
from conformance.session.capabilities import (
    NEED_REASONS,
    NO_STREAMING_URL,
    REFERENCE_FACTS,
    advertised_streaming_url,
    gated_steps,
)
from conformance.session.plan import Connection
from conformance.session.recorder import wait_seconds
from conformance.session.state import LiveRun
from conformance.stimulus.base import Driver, StimulusError, with_world_tokens
from conformance.transports.setup_retry import (
    RETRY_STATUSES,
    RetryPolicy,
    SetupProblem,
    retry_after_seconds,
)


class StimulusSetupError(SetupError):
    """The stimulus driver could not be set up: nothing could be caused (exit 2)."""


_STIMULUS_OPTIONS = {
    "rest": "--token/--second-token (each needs 'read write follow')",
    "redis": "--redis-url",
}


async def prepare(run: LiveRun, client: httpx.AsyncClient) -> tuple[Driver | None, dict[str, str]]:
    """Pick and set up the stimulus driver; decide which needs this run can meet."""
    s, target = run.settings, run.target
    if s.long:
        run.available.add("long")
    allow_public = (
        s.allow_public_posts if s.allow_public_posts is not None else (not target.is_public_host)
    )
    if allow_public:
        run.available.add("public-posts")
    if target.is_reference:
        run.available |= REFERENCE_FACTS
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
    elif target.bare:  # --streaming-url alone: nothing to send REST calls to
        run.log.not_run_reason = "a bare streaming server has no REST API: use --stimulus redis"
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
        # Never green by omission: a stimulus that cannot be set up stops the run (exit 2)
        # before any stream opens, instead of leaving every delivery case not_exercised.
        with contextlib.suppress(Exception):
            await driver.cleanup()
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise StimulusSetupError(
            f"the {s.stimulus} stimulus could not be set up ({detail}); fix "
            f"{_STIMULUS_OPTIONS.get(s.stimulus, '--stimulus')}, or give --stimulus none"
        ) from None
    except asyncio.CancelledError:
        # Ctrl-C during setup: the session never got this driver, so its cleanup is ours (the
        # follow and the list setup made would otherwise stay on the target).
        with contextlib.suppress(Exception):
            await asyncio.shield(driver.cleanup())
        raise
    run.available.add("rest")  # "a driver is active" (the plan calls it rest)
    run.available.add(s.stimulus)
    run.available |= set(getattr(driver, "facts", frozenset)())  # remote authors, tokens ...
    # --database-url: the driver created accounts A and B; the run streams with their tokens
    run.settings = with_world_tokens(run.settings, info)
    run.gated = gated_steps(s.api_version or target.version, run.available)
    if info.list_id:
        run.available.add("list")
        run.list_id = info.list_id
    run.notes.extend(info.notes)
    return driver, dict(info.tokens)


def _redis_driver(run: LiveRun) -> Driver | None:
    from conformance.stimulus.redis import RedisDriver

    try:
        return RedisDriver.from_settings(run.settings, run.target)
    except Exception as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise StimulusSetupError(
            f"the redis stimulus could not start ({detail}); fix --redis-url, --account-id "
            "and --second-account-id"
        ) from None


def missing(run: LiveRun, conn: Connection, tokens: dict[str, str]) -> str | None:
    for need in sorted(conn.needs):
        if need not in run.available:
            return NEED_REASONS.get(need, f"needs {need}")
    if conn.token not in ("a", "b", "none", "invalid") and conn.token not in tokens:
        return f"no {conn.token} token could be minted on this target"
    if conn.token == "b" and not run.settings.second_token:
        return "needs --second-token"
    if conn.token == "a" and not run.settings.token:
        return "needs --token"
    return None


def retry_policy(run: LiveRun) -> RetryPolicy:
    """Connection-setup retries (``transports/setup_retry.py``), scaled like every deadline."""
    s = run.settings
    return RetryPolicy(
        max_attempts=max(1, s.max_setup_attempts),
        max_wait_s=run.seconds(s.max_retry_wait_s),
        initial_backoff_s=run.seconds(1.0),
    )


async def _probe_health(
    run: LiveRun, client: httpx.AsyncClient, url: str
) -> tuple[int | None, str]:
    """(status or None, what happened) of GET ``url``; rate limits and connect failures are
    retried like any connection setup."""
    policy = retry_policy(run)
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


def _streaming_unadvertised(run: LiveRun) -> bool:
    """Whether the target advertises no streaming URL and --streaming-url did not name one."""
    target = run.target
    if run.settings.streaming_url or target.embedded:
        return False
    if not target.streaming_advertised:
        return True
    instance = target.instance
    if not isinstance(instance, dict) or not instance:
        return False  # nothing read: discovery found the URL some other way
    return advertised_streaming_url(instance) is None


async def check_streaming(run: LiveRun, client: httpx.AsyncClient) -> None:
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
