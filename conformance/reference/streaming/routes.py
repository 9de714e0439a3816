"""Request routing of the streaming side, in Mastodon's order: CORS preflight, path, token, scopes,
method, stream parameters; WebSocket upgrades are taken on any path before routing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .. import faults
from .auth import authenticate, extract_token
from .channels import has_scope, plan_channels, stream_name_from_path
from .errors import MISSING_SCOPES, UNKNOWN_CHANNEL, StreamError
from .listeners import Viewer
from .responses import empty_not_found, express_not_found, health, json_error, preflight
from .sse import head_only, stream_sse
from .websocket import (
    WebSocketHub,
    auth_headers,
    handle_upgrade,
    is_upgrade,
    query_lists,
    query_params,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

HEALTH_PATH = "/api/v1/streaming/health"


class StreamingRoutes:
    def __init__(self, *, store: Any, bus: Any, settings: Any, hub: WebSocketHub) -> None:
        self.store = store
        self.bus = bus
        self.settings = settings
        self.hub = hub

    async def health(self, request: web.Request) -> web.StreamResponse:
        if request.method == "OPTIONS":
            return preflight(request)
        if request.method in ("GET", "HEAD"):
            return await health(request)
        return await self.dispatch(request)

    async def favicon(self, request: web.Request) -> web.StreamResponse:
        if request.method in ("GET", "HEAD"):
            return empty_not_found(request)
        return await self.dispatch(request)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.method == "OPTIONS":
            return preflight(request)
        if faults.active("no-sse"):  # FAULT
            return express_not_found(request)
        name = stream_name_from_path(request.path, query_lists(request))
        if name is None and faults.active("sse-accept-unknown-channel"):  # FAULT
            name = "public"
        if name is None:
            status = 404 if faults.active("wrong-error-status") else 400  # FAULT
            return await json_error(request, status, UNKNOWN_CHANNEL)
        try:
            if _anonymous_by_fault(request, self.store):  # FAULT
                info: Any = faults.AnonymousToken()
            else:
                info = authenticate(self.store, _sse_auth_headers(request), query_lists(request))
            viewer = Viewer(info, self.store)
            if not has_scope(viewer.scopes, name):
                raise StreamError(MISSING_SCOPES, 401)
            if request.method not in ("GET", "HEAD"):
                return express_not_found(request)
            if faults.active("sse-forbidden"):  # FAULT
                raise StreamError("Forbidden", 403)
            plan = plan_channels(
                name,
                query_params(request),
                account_id=viewer.account_id,
                scopes=viewer.scopes,
                list_owner=self.store.list_owner,
            )
        except StreamError as exc:
            if faults.drop_refusal(request, exc.status):  # FAULT
                return web.Response(status=204)
            return await json_error(request, faults.error_status(exc.status), exc.message)  # FAULT
        except Exception:
            return await json_error(request, 500, "An unexpected error occurred")
        if request.method == "HEAD":
            return await head_only(request)
        return await stream_sse(request, plan, viewer, bus=self.bus, settings=self.settings)

    @web.middleware
    async def upgrade_middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        if is_upgrade(request):
            return await handle_upgrade(
                request, store=self.store, bus=self.bus, settings=self.settings, hub=self.hub
            )
        return await handler(request)


def _sse_auth_headers(request: web.Request) -> dict[str, str]:
    headers = auth_headers(request)
    if faults.active("sse-ignore-authorization-header"):  # FAULT
        headers.pop("Authorization", None)
    return headers


def _anonymous_by_fault(request: web.Request, store: Any) -> bool:
    """``sse-accept-missing-token`` / ``sse-accept-invalid-token`` (FAULT): stream anyway."""
    token = extract_token(auth_headers(request), query_lists(request))
    name = stream_name_from_path(request.path, query_lists(request))
    if faults.anonymous_public(name, token):
        return True
    if not (faults.active("sse-accept-missing-token") or faults.active("sse-accept-invalid-token")):
        return False
    if token is None:
        return faults.active("sse-accept-missing-token")
    return faults.active("sse-accept-invalid-token") and store.authenticate(token) is None
