"""``--max-connections N``: a small server's capacity, for testing how the suite treats one.

Mastodon itself sets no limit; a small server (a database pool of 15, a worker per stream) stops
answering beyond a few dozen streams. With a limit, the streaming side answers a request that
would make more than N streaming connections (held streams, refusals in flight, handshakes)
with ``503 {"error":"Too many connections"}`` and ``Retry-After: 1``, as a proxy in front of such
a server would. Health checks and the REST API are never counted.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STREAMING_PREFIX = "/api/v1/streaming"
HEALTH_PATH = "/api/v1/streaming/health"


class Capacity:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self.refused = 0

    def counts(self, request: web.Request) -> bool:
        if request.path == HEALTH_PATH:
            return False
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        return upgrade or request.path.startswith(STREAMING_PREFIX)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.limit <= 0 or not self.counts(request):
            return await handler(request)
        if self.active >= self.limit:
            self.refused += 1
            body = json.dumps({"error": "Too many connections"})
            return web.Response(
                status=503,
                text=body,
                content_type="application/json",
                headers={"Retry-After": "1"},
            )
        self.active += 1
        try:
            return await handler(request)
        finally:
            self.active -= 1
