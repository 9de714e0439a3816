"""Open one planned connection with the right transport, URL and credential, uniformly.

The runner treats every connection alike (start, wait for an event, close); this module hides
which recorder does the work and how a token travels (header, query, subprotocol). Tokens are
resolved here from roles and handed straight to the recorders, which redact them.
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
from conformance.transcript.model import Meta, Transcript

INVALID_TOKEN = "msc-invalid-token-0000000000"

EventPredicate = Callable[[str, Any, list[Any] | None], bool]


def _join(base: str, path: str) -> str:
    base = base.rstrip("/")
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
    ) -> None:
        self.conn = conn
        self.meta = meta
        self._client = client
        self._token = token
        self._redactor = redactor
        self._connect_timeout_s = connect_timeout_s
        self.recorder: Any = None
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
        if conn.transport == "sse":
            from conformance.transports.sse import SSERecorder

            self.recorder = SSERecorder(
                client,
                self.url,
                headers=headers,
                meta=meta,
                connect_timeout_s=connect_timeout_s,
                idle_timeout_s=idle_timeout_s,
                redactor=redactor,
            )
        elif conn.transport == "ws":
            from conformance.transports.ws import WSRecorder

            via = conn.auth if token else "none"
            self.recorder = WSRecorder(
                self.url,
                token=token,
                token_via=via,  # type: ignore[arg-type]
                meta=meta,
                open_timeout_s=connect_timeout_s,
                answer_pings=conn.role != "no-pong",
                redactor=redactor,
            )

    @property
    def key(self) -> str:
        return self.conn.key

    @property
    def transcript(self) -> Transcript | None:
        if self.recorder is not None:
            return self.recorder.transcript
        return self._transcript

    @property
    def is_open(self) -> bool:
        t = self.transcript
        if t is None or t.end is not None:
            return False
        head = t.head
        status = head.fields.get("status") if head is not None else None
        return status == (101 if self.conn.transport == "ws" else 200)

    async def start(self) -> None:
        """Connect (SSE: response head; WS: handshake). HTTP probes run to completion."""
        self.started = time.monotonic()
        if self.recorder is not None:
            await self.recorder.start()
            self.started = time.monotonic()  # windows are measured from the response head
            return
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

    def events(self) -> list[tuple[str, Any, list[Any] | None]]:
        """(event name, decoded payload, WS stream array) delivered so far."""
        from conformance.judge.delivery import decode_payload

        out: list[tuple[str, Any, list[Any] | None]] = []
        if self.conn.transport == "sse" and self.recorder is not None:
            from conformance.sse.events import Event

            for item in self.recorder.items():
                if isinstance(item, Event):
                    out.append((item.event, decode_payload(item.event, item.data), None))
        elif self.conn.transport == "ws" and self.recorder is not None:
            from conformance.ws.messages import StreamMessage

            for msg in self.recorder.items():
                if isinstance(msg, StreamMessage) and msg.event is not None:
                    out.append((msg.event, decode_payload(msg.event, msg.payload), msg.stream))
        return out

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


__all__ = ["INVALID_TOKEN", "LiveConnection", "resolve_token"]
