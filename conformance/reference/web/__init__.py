"""The reference server's web side: Mastodon's "Rails half" in miniature.

``setup_web(app, store=..., bus=..., settings=...)`` registers the REST API (and the
reference-only /_reference/ endpoints) on an aiohttp application. Handlers change the store and
publish ``{"event", "payload"}`` messages to the bus as Rails publishes to Redis; the streaming
side, set up separately, subscribes to the same bus.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from conformance.reference.store import Store
from conformance.reference.web import (
    routes_accounts,
    routes_filters,
    routes_inbox,
    routes_instance,
    routes_lists,
    routes_media,
    routes_reference,
    routes_statuses,
    routes_timelines,
)
from conformance.reference.web.context import CONTEXT_KEY, WebContext

__all__ = ["setup_web"]

_ROUTE_TABLES = (
    routes_instance.routes,
    routes_accounts.routes,
    routes_statuses.routes,
    routes_media.routes,
    routes_lists.routes,
    routes_filters.routes,
    routes_timelines.routes,
    routes_inbox.routes,
    routes_reference.routes,
)


def _with_trailing_slash(table: web.RouteTableDef) -> list[web.AbstractRouteDef]:
    """Each route plus its ``path/`` twin: Rails' router ignores one trailing slash, and
    Mastodon.py asks for ``/api/v1/instance/`` and ``/api/v2/instance/`` (without them it cannot
    learn the version or the streaming URL). The streaming side keeps its exact matching."""
    routes: list[web.AbstractRouteDef] = []
    for route in table:
        routes.append(route)
        if isinstance(route, web.RouteDef) and not route.path.endswith("/"):
            kwargs = {k: v for k, v in route.kwargs.items() if k != "name"}
            routes.append(web.RouteDef(route.method, route.path + "/", route.handler, kwargs))
    return routes


def setup_web(app: web.Application, *, store: Store, bus: Any, settings: Any) -> None:
    app[CONTEXT_KEY] = WebContext(store=store, bus=bus, settings=settings)
    for table in _ROUTE_TABLES:
        app.router.add_routes(_with_trailing_slash(table))
