"""SSE recorder: one streaming GET over httpx, every body read timestamped, parsed as it arrives.

The recorder only records; judging happens later on the transcript. It parses incrementally so
drivers can wait on barriers ("the update with our marker arrived") without polling: each new
chunk wakes ``wait_for``.

Redaction runs on the connection's byte stream (``StreamRedactor``), not per read, so a token
echoed across two reads is still removed; the parser sees the redacted stream too. Resources are
bounded by ``Limits``: the transcript keeps a head and a tail of the body (the gap noted), and
a line or event over the parser's bounds, or too many bytes, events or comments, make the
recorder close the connection itself (``end`` ``client-close``, detail ``limit: ...``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

import httpx

from conformance.redact import Redactor, secrets_from_request
from conformance.sse.events import Comment, Event, SSEItem
from conformance.sse.parser import SSEParser
from conformance.transcript.model import Meta, Transcript
from conformance.transports._shared import (
    DEFAULT_LIMITS,
    BodyKeeper,
    Changes,
    Clock,
    HeadersArg,
    Limits,
    classify_httpx_error,
    describe_predicate,
    head_fields,
    header_list,
    new_transcript,
)

__all__ = ["SSERecorder"]

SSEPredicate = Callable[[Sequence[SSEItem]], bool]


class SSERecorder:
    """Records one SSE response: head, body chunks (after transfer decoding) and how it ended.

    ``connect_timeout_s`` bounds the TCP/TLS connect; ``idle_timeout_s`` bounds the wait for the
    response head and for every further read (size it above the server's heartbeat: Mastodon
    sends ``:thump`` every 15 s). A refused or non-200 response is recorded with its body.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        *,
        headers: HeadersArg = None,
        meta: Meta,
        connect_timeout_s: float = 10.0,
        idle_timeout_s: float = 60.0,
        redactor: Redactor | None = None,
        method: str = "GET",
        max_line_bytes: int | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self._client = client
        self._url = url
        self._method = method
        self._headers = header_list(headers)
        # The caller's secrets plus whatever credential this request carries.
        self._redactor = (redactor or Redactor()).extend(secrets_from_request(url, self._headers))
        self._connect_timeout_s = connect_timeout_s
        self._idle_timeout_s = idle_timeout_s
        self.transcript: Transcript = new_transcript(
            meta,
            {"method": method, "url": url, "headers": [list(h) for h in self._headers]},
            self._redactor,
        )
        self._limits = limits
        self._parser = SSEParser(
            max_line_bytes=max_line_bytes or limits.max_line_bytes,
            max_event_bytes=limits.max_event_bytes,
        )
        self._stream = self._redactor.stream()
        self._keeper = BodyKeeper(self.transcript, limits)
        self._items: list[SSEItem] = []
        self._events = 0
        self._comments = 0
        #: why the recorder closed the connection itself (a limit), else None
        self.limit_hit: str | None = None
        self._clock = Clock()
        self._changes: Changes | None = None
        self._task: asyncio.Task[None] | None = None
        self._head: asyncio.Event | None = None
        self._head_seen = False
        self._close_how = "client-close"

    # -- public API ----------------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.transcript.end is not None

    @property
    def status(self) -> int | None:
        head = self.transcript.head
        return head.fields.get("status") if head is not None else None

    def items(self) -> list[SSEItem]:
        """Parsed SSE items so far (events, comments, violations), in arrival order."""
        return list(self._items)

    async def start(self) -> None:
        """Connect and return once the response head arrived or the attempt failed."""
        if self._task is not None:
            return
        self._changes = Changes()
        self._head = asyncio.Event()
        name = f"sse-recorder {self.transcript.meta.id}"
        self._task = asyncio.create_task(self._run(), name=name)
        head_wait = asyncio.create_task(self._head.wait())
        guard = self._connect_timeout_s + self._idle_timeout_s + 1.0
        try:
            done, _ = await asyncio.wait(
                {head_wait, self._task}, timeout=guard, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            head_wait.cancel()
        if not done:
            self._add_timeout("response head", guard)
            await self.close(how="deadline")

    async def wait_for(
        self, predicate: SSEPredicate, deadline_s: float, *, what: str | None = None
    ) -> bool:
        """Wait until ``predicate(items)`` holds; False if the stream ended or the deadline hit.

        On the deadline a ``timeout`` record names the wait (``what``, else the predicate).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + deadline_s
        while True:
            changes = self._changes
            if predicate(self._items):
                return True
            if self.ended or changes is None:
                return False
            remaining = deadline - loop.time()
            if remaining <= 0:
                self._add_timeout(what or describe_predicate(predicate), deadline_s)
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changes.current.wait(), remaining)

    async def close(self, *, how: str = "client-close") -> None:
        """Stop reading; records ``end`` with ``how`` (``client-close`` or ``deadline``)."""
        self._close_how = how
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._finish(how, "closed by the suite")

    # -- internals -----------------------------------------------------------------------------

    async def _run(self) -> None:
        response: httpx.Response | None = None
        redactor = self._redactor
        try:
            request = self._client.build_request(
                self._method,
                self._url,
                headers=self._headers,
                timeout=httpx.Timeout(self._idle_timeout_s, connect=self._connect_timeout_s),
            )
            self._clock.start()
            response = await self._client.send(request, stream=True)
            self.transcript.add(0.0, "connect")
            self.transcript.add(self._clock(), "response-head", **head_fields(response, redactor))
            self._head_seen = True
            if self._head is not None:
                self._head.set()
            self._bump()
            async for chunk in response.aiter_raw():
                if not chunk:
                    continue
                self._take(self._stream.feed(chunk), self._clock(), len(chunk))
                self._bump()
                if self.limit_hit is not None:
                    self._finish("client-close", f"limit: {self.limit_hit}")
                    return
            self._finish("eof", "")
        except asyncio.CancelledError:
            self._finish(self._close_how, "closed by the suite")
            raise
        except Exception as exc:
            how, detail = classify_httpx_error(exc, head_seen=self._head_seen)
            if how == "deadline":
                self._add_timeout("next read (idle timeout)", self._idle_timeout_s)
            self._finish(how, redactor.text(detail))
        finally:
            if response is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(response.aclose(), 2.0)

    def _take(self, data: bytes, t: float, received: int) -> None:
        """Keep and parse one (redacted) read; note the first limit it crosses."""
        self._keeper.add(t, data)
        items = self._parser.feed(data, t) if data else []
        for item in items:
            if isinstance(item, Event):
                self._events += 1
                if self._events > self._limits.max_events:
                    self._limit("too-many-events", f"more than {self._limits.max_events} events", t)
                    continue
            elif isinstance(item, Comment):
                self._comments += 1
                if self._comments > self._limits.max_comments:
                    self._limit(
                        "too-many-comments", f"more than {self._limits.max_comments} comments", t
                    )
                    continue
            elif item.kind in {"line-too-long", "event-too-long"}:
                self._limit(item.kind, item.detail, t)
            self._items.append(item)
        if received and self._keeper.total_bytes > self._limits.max_body_bytes:
            self._limit("body-too-long", f"more than {self._limits.max_body_bytes} body bytes", t)

    def _limit(self, kind: str, why: str, t: float) -> None:
        """Record the first limit crossed (a ``note`` the SSE parse turns back into a violation)."""
        if self.limit_hit is None:
            self.limit_hit = f"{kind}: {why}"
            self.transcript.add(
                t, "note", text=f"connection closed by the suite: {kind}: {why}", limit=kind
            )

    def _finish(self, how: str, detail: str) -> None:
        if self.ended:
            return
        t = self._clock()
        rest = self._stream.flush()
        if rest:
            self._take(rest, t, 0)
        self._items.extend(self._parser.close(t))
        self._keeper.settle()
        self.transcript.add(t, "end", how=how, detail=detail)
        if self._head is not None:
            self._head.set()
        self._bump()

    def _add_timeout(self, wait: str, deadline_s: float) -> None:
        self.transcript.add(self._clock(), "timeout", wait=wait, deadline_s=deadline_s)

    def _bump(self) -> None:
        if self._changes is not None:
            self._changes.bump()
