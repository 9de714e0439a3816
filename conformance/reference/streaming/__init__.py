"""The streaming side of the reference server: SSE and WebSocket, as Mastodon's server does them.

``setup_streaming`` registers the routes on an aiohttp application. With ``standalone`` (the
streaming port of ``--split-ports``) every unknown path answers like Mastodon's streaming process
(400 "Unknown channel requested"); sharing an application with the web side it claims only
``/api/v1/streaming`` and below, plus WebSocket upgrades on any path.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .capacity import Capacity
from .routes import HEALTH_PATH, StreamingRoutes
from .websocket import WebSocketHub

HUB_KEY: web.AppKey[WebSocketHub] = web.AppKey("reference_streaming_hub", WebSocketHub)

__all__ = ["HUB_KEY", "setup_streaming"]


def setup_streaming(
    app: web.Application, *, store: Any, bus: Any, settings: Any, standalone: bool | None = None
) -> None:
    if standalone is None:
        standalone = bool(getattr(settings, "split_ports", False))
    hub = WebSocketHub(settings)
    app[HUB_KEY] = hub
    routes = StreamingRoutes(store=store, bus=bus, settings=settings, hub=hub)
    limit = int(getattr(settings, "max_connections", 0) or 0)
    if limit > 0:  # --max-connections: refuse beyond it (before any upgrade is taken)
        app.middlewares.append(Capacity(limit).middleware)
    app.middlewares.append(routes.upgrade_middleware)
    app.on_startup.append(hub.start)
    app.on_shutdown.append(hub.stop)
    app.router.add_route("*", HEALTH_PATH, routes.health)
    app.router.add_route("*", "/api/v1/streaming", routes.dispatch)
    app.router.add_route("*", "/api/v1/streaming/{tail:.*}", routes.dispatch)
    if standalone:
        app.router.add_route("*", "/favicon.ico", routes.favicon)
        app.router.add_route("*", "/{tail:.*}", routes.dispatch)
