"""Pieces the recorders share: the connection clock, change notification, error classification."""

from __future__ import annotations

import asyncio
import collections
import datetime as _dt
import errno
import heapq
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx

from conformance.redact import Redactor
from conformance.sse.parser import (
    DEFAULT_MAX_COMMENTS,
    DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_MAX_EVENTS,
    DEFAULT_MAX_LINE_BYTES,
)
from conformance.transcript.model import Meta, Record, Transcript

HeadersArg = Mapping[str, str] | Iterable[Sequence[str]] | None


def header_list(headers: HeadersArg) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


def meta_with_request(meta: Meta, request: dict[str, Any], redactor: Redactor) -> Meta:
    """The caller's meta with what was actually sent (redacted) and a start time."""
    merged = {**meta.request, **request}
    started = meta.started_at or _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")
    return replace(meta, request=redactor.request(merged), started_at=started)


class Clock:
    """Seconds since the connection attempt started (monotonic), the ``t`` of every record."""

    def __init__(self) -> None:
        self._t0: float | None = None

    def start(self) -> None:
        self._t0 = time.monotonic()

    def __call__(self) -> float:
        if self._t0 is None:
            return 0.0
        return time.monotonic() - self._t0


class Changes:
    """Wakes every waiter on each change; waiters grab ``current`` before checking state."""

    def __init__(self) -> None:
        self.current = asyncio.Event()

    def bump(self) -> None:
        self.current.set()
        self.current = asyncio.Event()


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def is_reset(exc: BaseException) -> bool:
    for item in _chain(exc):
        if isinstance(item, ConnectionResetError | BrokenPipeError):
            return True
        if isinstance(item, OSError) and item.errno in {errno.ECONNRESET, errno.EPIPE}:
            return True
        if "reset by peer" in str(item).lower():
            return True
    return False


def classify_httpx_error(exc: BaseException, *, head_seen: bool) -> tuple[str, str]:
    """Map an httpx failure to an ``end`` record's (how, detail)."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, httpx.ConnectTimeout):
        return "error", f"connect timeout: {detail}"
    if isinstance(exc, httpx.ConnectError):
        return "error", f"connect failed: {detail}"
    if isinstance(exc, httpx.TimeoutException):
        return "deadline", f"idle timeout: {detail}"
    if is_reset(exc):
        return "reset", detail
    if isinstance(exc, httpx.RemoteProtocolError):
        # h11: "peer closed connection without sending complete message body: incomplete
        # chunked read", or "Server disconnected without sending a response".
        return "incomplete", detail
    if isinstance(exc, httpx.ReadError) and head_seen:
        return "incomplete", detail
    return "error", detail


def head_fields(response: httpx.Response, redactor: Redactor) -> dict[str, Any]:
    raw = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in response.headers.raw
    ]
    return {
        "status": response.status_code,
        "reason": response.reason_phrase,
        "http_version": response.http_version,
        "headers": redactor.headers(raw),
    }


def new_transcript(meta: Meta, request: dict[str, Any], redactor: Redactor) -> Transcript:
    return Transcript(meta=meta_with_request(meta, request, redactor))


# -- bounded resources ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    """What one connection may cost, whatever the server sends (issue: hostile servers).

    ``keep_head_bytes`` + ``keep_tail_bytes`` of body are kept in the transcript (the gap between
    them is noted), at most ``keep_reads`` reads on each side. Beyond ``max_body_bytes`` read,
    ``max_events`` events or ``max_comments`` comments the recorder closes the connection itself,
    as it does on an SSE line or event over the parser's bounds: a hostile connection is judged
    on what was kept and closed. Sizes are generous for Mastodon (a status event is a few KiB,
    a run sees tens of events per stream) and small enough that a hundred flooded connections
    stay far below the suite's 300 MiB peak.
    """

    keep_head_bytes: int = 256 << 10
    keep_tail_bytes: int = 64 << 10
    keep_reads: int = 4096
    max_body_bytes: int = 16 << 20
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    max_events: int = DEFAULT_MAX_EVENTS
    max_comments: int = DEFAULT_MAX_COMMENTS


DEFAULT_LIMITS = Limits()


class BodyKeeper:
    """Adds ``body-chunk`` records to a transcript within a head + tail byte budget.

    Reads past the head go to a bounded tail ring; what falls out of the ring is counted. On
    ``settle`` (the connection ended) the tail is merged back in time order with the records
    added meanwhile, after one ``note`` record (``gap_bytes``, ``gap_reads``) marking the gap.
    """

    def __init__(self, transcript: Transcript, limits: Limits = DEFAULT_LIMITS) -> None:
        self._transcript = transcript
        self._limits = limits
        self._head_bytes = 0
        self._head_reads = 0
        self._mark: int | None = None  # index in records where the head ended
        self._tail: collections.deque[Record] = collections.deque()
        self._tail_bytes = 0
        self.gap_bytes = 0
        self.gap_reads = 0
        self._gap_t: float | None = None  # time of the first read not (wholly) kept
        #: every body byte offered, kept or not
        self.total_bytes = 0

    def add(self, t: float, data: bytes) -> None:
        if not data:
            return
        self.total_bytes += len(data)
        limits = self._limits
        if self._mark is None:
            room = limits.keep_head_bytes - self._head_bytes
            if room > 0 and self._head_reads < limits.keep_reads:
                piece, data = data[:room], data[room:]
                self._transcript.add(t, "body-chunk", data=piece)
                self._head_bytes += len(piece)
                self._head_reads += 1
                if not data:
                    return
            self._mark = len(self._transcript.records)
        self._tail.append(Record(t=t, kind="body-chunk", fields={"data": data}))
        self._tail_bytes += len(data)
        while self._tail and (
            self._tail_bytes > limits.keep_tail_bytes or len(self._tail) > limits.keep_reads
        ):
            oldest = self._tail[0]
            if self._gap_t is None:
                self._gap_t = oldest.t
            excess = self._tail_bytes - limits.keep_tail_bytes
            if len(self._tail) <= limits.keep_reads and 0 < excess < len(oldest.data):
                # Trim the oldest read instead of dropping it whole.
                self._tail[0] = Record(
                    t=oldest.t, kind="body-chunk", fields={"data": oldest.data[excess:]}
                )
                self._tail_bytes -= excess
                self.gap_bytes += excess
                break
            self._tail.popleft()
            self._tail_bytes -= len(oldest.data)
            self.gap_bytes += len(oldest.data)
            self.gap_reads += 1

    def settle(self) -> None:
        """Put the tail (and the gap note) back into the transcript; idempotent."""
        if self._mark is None:
            return
        records = self._transcript.records
        later = records[self._mark :]
        del records[self._mark :]
        gap: list[Record] = []
        if self.gap_bytes:
            gap.append(
                Record(
                    t=self._gap_t if self._gap_t is not None else 0.0,
                    kind="note",
                    fields={
                        "text": f"transcript gap: {self.gap_bytes} body bytes in"
                        f" {self.gap_reads} reads not kept (keeps the first"
                        f" {self._limits.keep_head_bytes} and last"
                        f" {self._limits.keep_tail_bytes} bytes per connection)",
                        "gap_bytes": self.gap_bytes,
                        "gap_reads": self.gap_reads,
                    },
                )
            )
        records.extend(heapq.merge(gap, list(self._tail), later, key=lambda r: r.t))
        self._tail.clear()
        self._tail_bytes = 0
        self._mark = None


def describe_predicate(predicate: Callable[..., object]) -> str:
    """A wait's name in a ``timeout`` record, when the caller gave none."""
    return getattr(predicate, "__qualname__", None) or repr(predicate)
