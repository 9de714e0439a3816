"""The driver's HTTP calls: one request as a user, Retry-After honoured on 429 (bounded), and a
credential-free ``stimulus`` record of every call for the stimulus log.

Answers are untrusted: a body is read up to ``MAX_ANSWER_BYTES`` and decoded with bounded
nesting (``conformance.safejson``); anything else is a ``StimulusError`` for that step, never
an exception that crashes the session.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from typing import Any

import httpx

from conformance import safejson
from conformance.stimulus.base import StimulusError
from conformance.transcript.model import Record

#: One logger for the whole driver (``conformance.stimulus.rest``), as before it was a package.
log = logging.getLogger(__package__)

#: Largest REST answer read (a status or an account is a few KiB).
MAX_ANSWER_BYTES = 4 << 20


class UnexpectedStatus(StimulusError):
    """The target answered a status the call did not accept (``status``: what it answered)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class RestCalls:
    """Mixin for ``RestDriver``: the only place a request leaves the driver."""

    _client: httpx.AsyncClient
    _base: str
    _tokens: dict[str, str]
    _timeout: float
    _max_retry_wait: float
    requests_made: int
    records: list[Record]
    _marker: str | None
    _t0: float

    async def _call(
        self,
        who: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        files: Any = None,
        data: Any = None,
        ok: tuple[int, ...] = (200,),
        token: str | None = None,
    ) -> Any:
        """One request as ``who`` (``a``, ``b`` or ``none``); 429 waits for Retry-After (bounded)
        and retries; any other unexpected status raises ``StimulusError`` without the token."""
        headers = {"Accept": "application/json"}
        bearer = token if token is not None else self._tokens.get(who)
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        url = f"{self._base}{path}"
        waited = 0.0
        for _attempt in range(6):
            self.requests_made += 1
            try:
                status, retry_after, content = await self._send(
                    method, url, headers=headers, json=json, params=params, files=files, data=data
                )
            except (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL) as exc:
                self._record(who, method, path, json, params, None)
                raise StimulusError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
            self._record(who, method, path, json, params, status)
            if content is None:
                raise StimulusError(
                    f"{method} {path}: answer larger than {MAX_ANSWER_BYTES} bytes (not read)"
                )
            if status == 429:
                delay = _retry_after(retry_after)
                if waited + delay > self._max_retry_wait:
                    raise StimulusError(f"{method} {path}: rate limited beyond the retry budget")
                log.info("429 on %s %s, waiting %.1fs", method, path, delay)
                await asyncio.sleep(delay)  # the server told us how long; not a guess
                waited += delay
                continue
            if status not in ok:
                text = content[:200].decode("utf-8", errors="replace")
                raise UnexpectedStatus(f"{method} {path}: HTTP {status} {text!r}", status)
            if not content:
                return None
            try:
                return safejson.loads(content, max_bytes=MAX_ANSWER_BYTES)
            except safejson.JSONBoundsError as exc:
                raise StimulusError(f"{method} {path}: answer not readable safely: {exc}") from None
            except ValueError:
                return content.decode("utf-8", errors="replace")
        raise StimulusError(f"{method} {path}: still rate limited after retries")

    async def _send(
        self, method: str, url: str, **kwargs: Any
    ) -> tuple[int, str | None, bytes | None]:
        """(status, Retry-After, body) with the body read up to ``MAX_ANSWER_BYTES``
        (None beyond: the rest is never read)."""
        async with self._client.stream(method, url, timeout=self._timeout, **kwargs) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    return response.status_code, None, None
            return response.status_code, response.headers.get("retry-after"), bytes(body)

    def _record(
        self, who: str, method: str, path: str, body: Any, params: Any, status: int | None
    ) -> None:
        """Log the call for the stimulus log: who, what, the JSON body and query, the status.
        Headers (the token) and form bodies (``/oauth/revoke`` carries a token) never enter."""
        detail: dict[str, Any] = {"who": who, "method": method, "path": path, "status": status}
        if body is not None:
            detail["json"] = body
        if params is not None:
            detail["params"] = params
        self.records.append(
            Record(
                t=time.monotonic() - self._t0,
                kind="stimulus",
                fields={"action": "rest", "detail": detail, "marker": self._marker},
            )
        )


def _retry_after(value: str | None, default: float = 1.0) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())
