"""When a failed connection attempt is not the server's answer, and how long to wait to retry.

Opening ~60 streams at once against a live instance behind nginx can meet ``429 Too Many
Requests`` (or a proxy's ``502``/``503``/``504``, often with ``Retry-After``) on the SSE request
or the WebSocket upgrade, and a busy network can refuse a TCP/TLS connect. None of that is what
a case asked about: judging it would fail a conformant server for our own burst. So connection
*setup* is retried (never an assertion): this module decides, from one attempt's transcript
alone, whether it was such a setup problem (``setup_problem``) and how long to wait
(``RetryPolicy.delay``). It is pure; the waiting is done by the caller (``session/recorder.py``).

A ``Retry-After`` the server sent is obeyed as given (seconds or an HTTP date) and only bounded
by ``max_wait_s``: a server that asks for longer than that is given up on at once rather than
asked again early. Without ``Retry-After`` the wait doubles from ``initial_backoff_s``.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from typing import Any

from conformance.transcript.model import Transcript

__all__ = [
    "CONNECT_FAILURE_PREFIXES",
    "RETRY_STATUSES",
    "RetryPolicy",
    "SetupProblem",
    "retry_after_seconds",
    "setup_problem",
]

#: ``end`` details the recorders write when TCP, TLS or DNS failed before any response
#: (``_shared.classify_httpx_error`` for httpx, ``WSRecorder.start`` for websockets).
CONNECT_FAILURE_PREFIXES = ("connect failed", "connect timeout")

#: Statuses that say "not now" rather than answer the request: rate limiting, and a proxy whose
#: upstream is down or overloaded. A ``500`` is the application's answer and is judged.
RETRY_STATUSES: dict[int, str] = {
    429: "Too Many Requests",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True, slots=True)
class SetupProblem:
    """Why an attempt was not an answer: ``summary`` (``429 Too Many Requests``, ``connect
    failed: ...``), the server's ``Retry-After`` in seconds (None: absent or unreadable), the raw
    header value, and the attempt's response head (for the evidence note)."""

    summary: str
    retry_after_s: float | None = None
    retry_after_raw: str | None = None
    head: dict[str, Any] | None = field(default=None)


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value (delta-seconds or an HTTP date); None if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds and seconds != float("inf") else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT by definition
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _header(head: dict[str, Any], name: str) -> str | None:
    for key, value in head.get("headers", []):
        if str(key).lower() == name:
            return str(value)
    return None


def setup_problem(transcript: Transcript, *, now: float | None = None) -> SetupProblem | None:
    """The setup problem this attempt met, or None when the recording is the server's answer.

    A setup problem is a status in ``RETRY_STATUSES`` (a rate limit, or a proxy saying "later";
    not a refusal of what we asked), or no response at all because TCP, TLS or DNS failed
    before anything was connected. A status the connection expects
    (``context["expect_status"]``) is always an answer, and so is a health probe's 5xx.
    """
    head = transcript.head
    if head is not None:
        status = head.fields.get("status")
        if status == transcript.meta.context.get("expect_status"):
            return None
        if status != 429 and transcript.meta.context.get("purpose") == "health":
            return None  # "unavailable" is what a health check exists to answer
        raw = _header(head.fields, "retry-after")
        if status in RETRY_STATUSES:
            reason = str(head.fields.get("reason") or RETRY_STATUSES[status])
            return SetupProblem(
                summary=f"{status} {reason}",
                retry_after_s=retry_after_seconds(raw, now=now),
                retry_after_raw=raw,
                head={
                    "status": status,
                    "reason": head.fields.get("reason", ""),
                    "headers": head.fields.get("headers", []),
                },
            )
        return None
    end = transcript.end
    if end is None or any(r.kind == "connect" for r in transcript.records):
        return None  # connected: whatever happened next is the server's behaviour
    detail = str(end.fields.get("detail", ""))
    if end.fields.get("how") in ("error", "reset") and detail.startswith(CONNECT_FAILURE_PREFIXES):
        return SetupProblem(summary=detail)
    return None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most ``max_attempts`` attempts; each wait at most ``max_wait_s``; back-off without
    ``Retry-After`` starts at ``initial_backoff_s`` and doubles. The session scales the times by
    ``--timeout-multiplier``."""

    max_attempts: int = 3
    max_wait_s: float = 30.0
    initial_backoff_s: float = 1.0

    def delay(self, problem: SetupProblem, attempt: int) -> float | None:
        """Seconds to wait after failed attempt number ``attempt`` (1-based); None: give up."""
        if attempt >= self.max_attempts:
            return None
        if problem.retry_after_s is not None:
            if problem.retry_after_s > self.max_wait_s:
                return None  # asking again before the server said so would not be polite
            return problem.retry_after_s
        return min(self.initial_backoff_s * (2 ** (attempt - 1)), self.max_wait_s)

    def give_up_message(self, problem: SetupProblem, attempts: int) -> str:
        """``gave up after 3 attempts: 429 Too Many Requests`` (+ why, if it stopped early)."""
        noun = "attempt" if attempts == 1 else "attempts"
        message = f"gave up after {attempts} {noun}: {problem.summary}"
        if (
            attempts < self.max_attempts
            and problem.retry_after_s is not None
            and problem.retry_after_s > self.max_wait_s
        ):
            message += (
                f" (Retry-After {problem.retry_after_s:g} s exceeds the "
                f"{self.max_wait_s:g} s limit, --max-retry-wait)"
            )
        return message
