"""Pieces the recorders share: the connection clock, change notification, error classification."""

from __future__ import annotations

import asyncio
import datetime as _dt
import errno
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import httpx

from conformance.redact import Redactor
from conformance.transcript.model import Meta, Transcript

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
