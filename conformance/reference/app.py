"""Assembling and running the reference server: one port like a single-host Mastodon, or two.

Sockets are bound before the applications are built so the advertised URLs (``--port 0``) are
known before the first request. With ``split_ports`` the REST port answers ``/api/v1/streaming``
with a 301 to the streaming port, path and query kept, as Rails' ``StreamingController`` does
when streaming lives on another host.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import faults
from .bus import Bus, MemoryBus
from .settings import Settings
from .streaming import setup_streaming

#: Node's HTTP keep-alive timeout: an ended SSE response leaves the socket open this long.
KEEPALIVE_TIMEOUT_S = 5.0
SHUTDOWN_TIMEOUT_S = 1.0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _origin(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}"


def _redirect_to_streaming(settings: Settings) -> Any:
    async def redirect(request: web.Request) -> web.Response:
        host_port = settings.streaming_url.split("://", 1)[1]
        location = f"{request.scheme}://{host_port}{request.raw_path}"
        return web.Response(status=301, headers={"Location": location})

    return redirect


def _setup_web(app: web.Application, *, store: Any, bus: Bus, settings: Settings) -> None:
    from .web import setup_web  # the web side is built separately; import only when serving it

    setup_web(app, store=store, bus=bus, settings=settings)


def build_apps(
    store: Any,
    bus: Bus,
    settings: Settings,
    *,
    with_web: bool = True,
    streaming_store: Any = None,
) -> list[web.Application]:
    """The applications to serve: ``[combined]`` or ``[rest, streaming]`` with split ports.

    ``streaming_store`` (``--database-url``: a ``pg.PgStreamingStore``) is what the streaming
    side reads instead of the web side's in-memory store, as Mastodon's Node server reads
    PostgreSQL while Rails writes it.
    """
    reads = streaming_store if streaming_store is not None else store
    if not settings.split_ports:
        app = web.Application()
        setup_streaming(app, store=reads, bus=bus, settings=settings, standalone=False)
        if with_web:
            _setup_web(app, store=store, bus=bus, settings=settings)
        return [app]
    rest = web.Application()
    redirect = _redirect_to_streaming(settings)
    rest.router.add_route("GET", "/api/v1/streaming", redirect)
    rest.router.add_route("GET", "/api/v1/streaming/{tail:.*}", redirect)
    if with_web:
        _setup_web(rest, store=store, bus=bus, settings=settings)
    streaming = web.Application()
    setup_streaming(streaming, store=reads, bus=bus, settings=settings, standalone=True)
    return [rest, streaming]


@dataclass
class RunningServer:
    """A started reference server; ``close()`` stops it and the bus."""

    settings: Settings
    store: Any
    bus: Bus
    runners: list[web.AppRunner] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.settings.public_url

    @property
    def streaming_url(self) -> str:
        return self.settings.streaming_url

    def startup_line(self) -> dict[str, Any]:
        """The JSON object printed on stdout by ``serve``."""
        info = self.store.seed_info()
        return {
            "url": self.url,
            "streaming_url": self.streaming_url,
            "accounts": info.get("accounts", []),
            "lists": info.get("lists", []),
        }

    async def close(self) -> None:
        for runner in reversed(self.runners):
            with contextlib.suppress(Exception):
                await runner.cleanup()
        self.runners.clear()
        with contextlib.suppress(Exception):
            await self.bus.close()


async def start_server(
    settings: Settings,
    *,
    store: Any,
    bus: Bus | None = None,
    with_web: bool = True,
    streaming_store: Any = None,
) -> RunningServer:
    bus = bus if bus is not None else MemoryBus()
    faults.install(settings.faults)
    faults.install_variants(settings.variants)
    sockets = [_bind(settings.host, settings.port)]
    if settings.split_ports:
        sockets.append(_bind(settings.host, settings.streaming_port))
    ports = [sock.getsockname()[1] for sock in sockets]
    settings.port = ports[0]
    settings.public_url = f"http://{_origin(settings.host, ports[0])}"
    settings.streaming_url = f"ws://{_origin(settings.host, ports[-1])}"
    if settings.split_ports:
        settings.streaming_port = ports[1]
    server = RunningServer(settings=settings, store=store, bus=bus)
    try:
        for app, sock in zip(
            build_apps(store, bus, settings, with_web=with_web, streaming_store=streaming_store),
            sockets,
            strict=True,
        ):
            runner = web.AppRunner(
                app,
                handler_cancellation=True,
                access_log=None,  # request lines carry ?access_token=; never log them
                keepalive_timeout=KEEPALIVE_TIMEOUT_S,
                shutdown_timeout=SHUTDOWN_TIMEOUT_S,
            )
            await runner.setup()
            server.runners.append(runner)
            await web.SockSite(runner, sock).start()
    except BaseException:
        await server.close()
        for sock in sockets:
            sock.close()
        raise
    return server
