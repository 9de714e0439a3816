"""Open one planned connection with the right transport, URL and credential, uniformly.

The runner treats every connection alike (start, wait for an event, close); this module hides
which recorder does the work and how a token travels (header, query, subprotocol). Tokens are
resolved here from roles and handed straight to the recorders, which redact them.

Opening is retried when an attempt is not the server's answer (``transports/setup_retry.py``:
429, 502/503/504, TCP/TLS/DNS failure): each retried attempt leaves a ``note`` (with
its response head as evidence) at the start of the final transcript, which is otherwise the
last attempt's. When the attempts run out, the transcript holds the notes and an ``end`` record
``how=error`` naming the wait (``gave up after 3 attempts: 429 Too Many Requests``) and no
response head, so nothing judges the rate limit as the server's answer; the runner reports the
connection's cases as ``error``. Retries never happen after a connection was established.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx

from conformance.redact import Redactor
from conformance.session.plan import Connection
from conformance.transcript.model import Meta, Record, Transcript
from conformance.transports.setup_retry import RetryPolicy, SetupProblem, setup_problem
from conformance.urls import without_userinfo

INVALID_TOKEN = "msc-invalid-token-0000000000"

EventPredicate = Callable[[str, Any, list[Any] | None], bool]


def _join(base: str, path: str) -> str:
    base = without_userinfo(base).rstrip("/")  # a Bearer token, never URL userinfo as Basic
    if base.endswith("/api/v1/streaming") and path.startswith("/api/v1/streaming"):
        base = base[: -len("/api/v1/streaming")]
    return base + path


class LiveConnection:
    """One recorder (SSE, WS or a plain HTTP exchange) for one ``Connection``."""

    def __init__(
        self,
        conn: Connection,
        meta: Meta,
        *,
        client: httpx.AsyncClient,
        http_base: str,
        ws_base: str,
        token: str | None,
        redactor: Redactor,
        connect_timeout_s: float,
        idle_timeout_s: float,
        web_base: str | None = None,
        retry: RetryPolicy | None = None,
        verify_tls: bool = True,
    ) -> None:
        self.conn = conn
        self._verify_tls = verify_tls
        self.meta = meta
        self._client = client
        self._token = token
        self._redactor = redactor
        self._connect_timeout_s = connect_timeout_s
        self._idle_timeout_s = idle_timeout_s
        self._retry = retry or RetryPolicy()
        #: attempts made to open this connection (1 unless setup was retried)
        self.attempts = 0
        #: why opening was given up (``gave up after 3 attempts: ...``); None if it was answered
        self.setup_failure: str | None = None
        self.recorder: Any = None
        # events() decodes each item once: (recorder it read, decoded so far, items scanned)
        self._decoded_for: Any = None
        self._decoded: list[tuple[str, Any, list[Any] | None]] = []
        self._scanned = 0
        self._http_task: asyncio.Task[Transcript] | None = None
        self._transcript: Transcript | None = None
        self.started = time.monotonic()
        params = list(meta.context.get("params", {}).items())
        if conn.transport == "ws":
            query = [(k, v) for k, v in params]
            self.url = _join(ws_base, conn.path) + (f"?{urlencode(query)}" if query else "")
        else:
            if conn.auth == "query" and token:
                params.append(("access_token", token))
            base = web_base if conn.base == "web" and web_base else http_base
            self.url = _join(base, conn.path) + (f"?{urlencode(params)}" if params else "")
        headers: list[tuple[str, str]] = (
            [("Accept", "text/event-stream")] if conn.transport == "sse" else []
        )
        if token and conn.auth == "header":
            headers.append(("Authorization", f"Bearer {token}"))
        elif token and conn.auth == "subprotocol":
            headers.append(("Sec-WebSocket-Protocol", token))
        self.headers = headers
        self.recorder = self._new_recorder()

    def _new_recorder(self) -> Any:
        """A fresh SSE or WS recorder (None for a plain HTTP probe): one per attempt."""
        conn = self.conn
        if conn.transport == "sse":
            from conformance.transports.sse import SSERecorder

            return SSERecorder(
                self._client,
                self.url,
                headers=self.headers,
                meta=self.meta,
                connect_timeout_s=self._connect_timeout_s,
                idle_timeout_s=self._idle_timeout_s,
                redactor=self._redactor,
            )
        if conn.transport == "ws":
            from conformance.transports.ws import WSRecorder

            via = conn.auth if self._token else "none"
            return WSRecorder(
                self.url,
                token=self._token,
                token_via=via,  # type: ignore[arg-type]
                meta=self.meta,
                open_timeout_s=self._connect_timeout_s,
                answer_pings=conn.role != "no-pong",
                redactor=self._redactor,
                verify_tls=self._verify_tls,
            )
        return None

    @property
    def key(self) -> str:
        return self.conn.key

    @property
    def transcript(self) -> Transcript | None:
        if self.recorder is not None:
            return self.recorder.transcript
        return self._transcript

    def mark(self, action: str, detail: dict[str, Any] | None = None) -> None:
        """Put a ``stimulus`` record on this connection's own clock (e.g. ``token.revoke``
        about to be requested, ``step-done`` when a step's stimulus completed), so a judge can
        order and time the server's behaviour against it."""
        clock = getattr(self.recorder, "_clock", None)
        if self.recorder is None or clock is None:
            return
        self.recorder.transcript.add(
            clock(), "stimulus", action=action, detail=dict(detail or {}), marker=None
        )

    @property
    def is_open(self) -> bool:
        t = self.transcript
        if t is None or t.end is not None:
            return False
        head = t.head
        status = head.fields.get("status") if head is not None else None
        return status == (101 if self.conn.transport == "ws" else 200)

    async def start(self) -> None:
        """Connect (SSE: response head; WS: handshake; HTTP probes run to completion), retrying
        setup problems within the policy's bounds (module docstring)."""
        self.started = time.monotonic()
        notes: list[Record] = []
        attempt = 0
        while True:
            attempt += 1
            self.attempts = attempt
            transcript = await self._attempt()
            problem = setup_problem(transcript)
            if problem is None:
                break
            delay = self._retry.delay(problem, attempt)
            notes.append(_retry_note(problem, attempt, self._retry, delay))
            await self._discard_attempt()
            if delay is None:
                self._give_up(transcript, notes, self._retry.give_up_message(problem, attempt))
                return
            try:
                await wait_seconds(delay)
            except asyncio.CancelledError:  # the setup deadline: still not the server's answer
                self._give_up(
                    transcript,
                    notes,
                    f"{self._retry.give_up_message(problem, attempt)} "
                    "(setup deadline reached while waiting to retry)",
                )
                raise
            self.recorder = self._new_recorder()
        if notes:
            transcript.records[0:0] = notes
        self.started = time.monotonic()  # windows are measured from the response head

    async def _attempt(self) -> Transcript:
        if self.recorder is not None:
            await self.recorder.start()
            return self.recorder.transcript  # type: ignore[no-any-return]
        from conformance.transports.http import record_http

        self._transcript = await record_http(
            self._client,
            "GET",
            self.url,
            headers=self.headers,
            meta=self.meta,
            deadline_s=self._connect_timeout_s,
            redactor=self._redactor,
        )
        return self._transcript

    async def _discard_attempt(self) -> None:
        """Stop the attempt's recorder (a 429 body may still be streaming)."""
        if self.recorder is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.recorder.close(), 5.0)

    def _give_up(self, last: Transcript, notes: list[Record], message: str) -> None:
        """The final transcript: the notes and an ``end`` naming the wait, no response head."""
        final = Transcript(meta=last.meta, records=list(notes))
        final.add(0.0, "end", how="error", detail=message)
        self.setup_failure = message
        if self.recorder is not None:
            self.recorder.transcript = final  # ended: every later wait returns at once
        else:
            self._transcript = final

    def events(self) -> list[tuple[str, Any, list[Any] | None]]:
        """(event name, decoded payload, WS stream array) delivered so far.

        Decoded once per item (kept per recorder): every wait re-checks its predicate on each
        read, and decoding every payload again each time made the waits cost CPU the server
        needs during stimulation."""
        from conformance.judge.delivery_match import decode_payload

        recorder = self.recorder
        if recorder is None or self.conn.transport not in ("sse", "ws"):
            return []
        if self._decoded_for is not recorder:
            self._decoded_for, self._decoded, self._scanned = recorder, [], 0
        items = recorder.items()
        if self.conn.transport == "sse":
            from conformance.sse.events import Event

            for item in items[self._scanned :]:
                if isinstance(item, Event):
                    payload = decode_payload(item.event, item.data)
                    self._decoded.append((item.event, payload, None))
        else:
            from conformance.ws.messages import StreamMessage

            for msg in items[self._scanned :]:
                if isinstance(msg, StreamMessage) and msg.event is not None:
                    payload = decode_payload(msg.event, msg.payload)
                    self._decoded.append((msg.event, payload, msg.stream))
        self._scanned = len(items)
        return list(self._decoded)

    async def wait_event(self, predicate: EventPredicate, deadline_s: float, what: str) -> bool:
        """Wait (bounded) until an event satisfying ``predicate`` was delivered."""
        if self.recorder is None:
            return False

        def check(_items: Sequence[Any]) -> bool:
            return any(predicate(e, p, s) for e, p, s in self.events())

        return bool(await self.recorder.wait_for(check, max(deadline_s, 0.0), what=what))

    async def close(self) -> None:
        if self.recorder is not None:
            # closing is best effort; the recorder has recorded the end either way
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.recorder.close(), 10.0)


async def wait_seconds(delay_s: float) -> None:
    """Wait out a Retry-After the server asked for, or the back-off between setup attempts.

    The one plain sleep in the session, on purpose: there is no condition to wait on, only the
    time the server named (or the back-off's deadline), and it is bounded by the retry policy.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + delay_s
    while (remaining := deadline - loop.time()) > 0:
        await asyncio.sleep(remaining)


def _retry_note(
    problem: SetupProblem, attempt: int, policy: RetryPolicy, delay: float | None
) -> Record:
    """``429 Too Many Requests, Retry-After 1 s: retrying in 1 s (attempt 1 of 3)``."""
    raw = problem.retry_after_raw
    if raw is not None:
        if problem.retry_after_s is None:
            said = f"Retry-After {raw!r} (unreadable)"
        elif raw.strip().replace(".", "", 1).isdigit():
            said = f"Retry-After {raw.strip()} s"
        else:  # an HTTP date
            said = f"Retry-After {raw} (= {problem.retry_after_s:.0f} s)"
    elif problem.head is not None:
        said = "no Retry-After"
    else:
        said = ""
    what = f"{problem.summary}, {said}" if said else problem.summary
    then = f"retrying in {delay:g} s" if delay is not None else "not retried"
    fields: dict[str, Any] = {
        "text": f"{what}: {then} (attempt {attempt} of {policy.max_attempts})",
        "attempt": attempt,
        "setup_retry": True,
    }
    if problem.head is not None:
        fields["head"] = problem.head
    if delay is not None:
        fields["wait_s"] = round(delay, 3)
    return Record(t=0.0, kind="note", fields=fields)


def resolve_token(role: str, settings: Any, extra: dict[str, str]) -> str | None:
    if role == "a":
        return settings.token
    if role == "b":
        return settings.second_token
    if role == "invalid":
        return INVALID_TOKEN
    if role == "none":
        return None
    return extra.get(role)


__all__ = ["INVALID_TOKEN", "LiveConnection", "resolve_token", "wait_seconds"]
