"""The driver's HTTP calls: one request as a user, Retry-After honoured on 429 (bounded), and a
credential-free ``stimulus`` record of every call for the stimulus log.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from typing import Any

import httpx

from conformance.stimulus.base import StimulusError
from conformance.transcript.model import Record

#: One logger for the whole driver (``conformance.stimulus.rest``), as before it was a package.
log = logging.getLogger(__package__)


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
                response = await self._client.request(
                    method,
                    url,
                    headers=headers,
                    json=json,
                    params=params,
                    files=files,
                    data=data,
                    timeout=self._timeout,
                )
            except httpx.HTTPError as exc:
                self._record(who, method, path, json, params, None)
                raise StimulusError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
            self._record(who, method, path, json, params, response.status_code)
            if response.status_code == 429:
                delay = _retry_after(response.headers.get("retry-after"))
                if waited + delay > self._max_retry_wait:
                    raise StimulusError(f"{method} {path}: rate limited beyond the retry budget")
                log.info("429 on %s %s, waiting %.1fs", method, path, delay)
                await asyncio.sleep(delay)  # the server told us how long; not a guess
                waited += delay
                continue
            if response.status_code not in ok:
                raise StimulusError(
                    f"{method} {path}: HTTP {response.status_code} {response.text[:200]!r}"
                )
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                return response.text
        raise StimulusError(f"{method} {path}: still rate limited after retries")

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
