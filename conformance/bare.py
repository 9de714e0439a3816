"""Bare mode: ``--streaming-url`` without ``--target``, a streaming server with no REST API.

People who change or replace Mastodon's streaming server run it alone (its Redis and
PostgreSQL, no Rails). There is no instance document to discover, so the streaming URL is taken
as given and proven by its health endpoint (``GET /api/v1/streaming/health``, which Mastodon
answers without a token); an unreachable URL is a setup error (exit 2), any HTTP answer lets the
run go on (the health case judges it). The plan leaves out what needs a REST host (the instance
documents and their discovery check) and the runner sends nothing to a REST API.
"""

from __future__ import annotations

from typing import Any

import httpx

from conformance.discovery import (
    REQUEST_TIMEOUT_S,
    USER_AGENT,
    DiscoveryError,
    TargetInfo,
    _is_public_host,
    discover,
    http_base,
)
from conformance.tls import client_tls

HEALTH_PATH = "/api/v1/streaming/health"

__all__ = ["HEALTH_PATH", "discover_bare", "discover_target", "is_bare"]


def is_bare(settings: Any) -> bool:
    """True for ``--streaming-url`` without ``--target`` (settings as collected or as run)."""
    return getattr(settings, "target", None) is None and bool(
        getattr(settings, "streaming_url", None)
    )


async def discover_target(
    settings: Any,
    *,
    embedded: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TargetInfo:
    """What ``run`` discovers: a bare streaming server, else ``discovery.discover``."""
    if is_bare(settings):
        return await discover_bare(settings, transport=transport)
    return await discover(settings, embedded=embedded, transport=transport)


async def discover_bare(
    settings: Any, *, transport: httpx.AsyncBaseTransport | None = None
) -> TargetInfo:
    """The ``TargetInfo`` of a bare streaming server; ``DiscoveryError`` if it cannot be reached."""
    base = http_base(str(settings.streaming_url))
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S * float(settings.timeout_multiplier or 1.0))
    async with httpx.AsyncClient(
        timeout=timeout,
        verify=client_tls(bool(settings.verify_tls)),
        headers={"User-Agent": USER_AGENT},
        transport=transport,
    ) as client:
        try:
            await client.get(base + HEALTH_PATH)
        except httpx.TransportError as exc:
            raise DiscoveryError(
                f"cannot reach the streaming server at {base}{HEALTH_PATH}: "
                f"{type(exc).__name__}; check --streaming-url"
            ) from exc
    host = httpx.URL(base).host
    return TargetInfo(
        base_url=base,
        streaming_base=base,
        version=None,
        instance={},
        is_reference=False,
        is_public_host=await _is_public_host(host),
        embedded=False,
        bare=True,
    )
