"""Discovery against a small fake instance server: v2, the v1 fallback, and the overrides."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from conformance.config import Settings
from conformance.discovery import (
    DiscoveryError,
    discover,
    http_base,
    is_public_address,
    origin,
)


def _app(v2: Any = None, v1: Any = None, reference: bool = False) -> web.Application:
    app = web.Application()

    def handler(body: Any) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            if body is None:
                return web.json_response({"error": "not found"}, status=404)
            return web.json_response(body)

        return handle

    app.router.add_get("/api/v2/instance", handler(v2))
    app.router.add_get("/api/v1/instance", handler(v1))
    if reference:
        app.router.add_get("/_reference/capabilities", handler({"scenarios": []}))
    return app


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Any]]:
    servers: list[TestServer] = []

    async def start(**kw: Any) -> str:
        server = TestServer(_app(**kw), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


V2 = {
    "version": "4.8.0-alpha.1",
    "configuration": {"urls": {"streaming": "wss://streaming.example"}},
}


async def test_v2_streaming_url_is_mapped_to_https(serve: Callable[..., Any]) -> None:
    base = await serve(v2=V2)
    info = await discover(Settings(target=base))
    assert info.base_url == base
    assert info.streaming_base == "https://streaming.example"
    assert info.ws_base == "wss://streaming.example"
    assert info.version == "4.8.0-alpha.1"
    assert info.is_reference is False
    assert info.is_public_host is False  # 127.0.0.1
    assert info.embedded is False


async def test_falls_back_to_v1_streaming_api(serve: Callable[..., Any]) -> None:
    base = await serve(v1={"version": "3.5.3", "urls": {"streaming_api": "ws://old.example:4000"}})
    info = await discover(Settings(target=base))
    assert info.streaming_base == "http://old.example:4000"
    assert info.version == "3.5.3"


async def test_v2_without_streaming_url_also_falls_back(serve: Callable[..., Any]) -> None:
    base = await serve(
        v2={"version": "4.0.0", "configuration": {}},
        v1={"version": "4.0.0", "urls": {"streaming_api": "wss://v1.example"}},
    )
    assert (await discover(Settings(target=base))).streaming_base == "https://v1.example"


async def test_streaming_url_flag_overrides_the_instance(serve: Callable[..., Any]) -> None:
    base = await serve(v2=V2, reference=True)
    info = await discover(Settings(target=base, streaming_url="ws://127.0.0.1:9/"), embedded=True)
    assert info.streaming_base == "http://127.0.0.1:9"
    assert info.version == "4.8.0-alpha.1"
    assert info.is_reference is True
    assert info.embedded is True


async def test_no_instance_document_is_a_discovery_error(serve: Callable[..., Any]) -> None:
    base = await serve()
    with pytest.raises(DiscoveryError, match="Mastodon server"):
        await discover(Settings(target=base))
    info = await discover(Settings(target=base, streaming_url="https://s.example"))
    assert info.version is None and info.streaming_base == "https://s.example"


@pytest.mark.parametrize(
    ("v2", "v1"),
    [
        ({"version": "4.8.0", "configuration": {"urls": {}}}, {"urls": {"streaming_api": None}}),
        ({"version": "4.8.0", "configuration": {}}, {"urls": {"streaming_api": ""}}),
        ({"version": "4.8.0"}, {"urls": {}}),
        ({"version": "4.8.0"}, None),
        (None, {"version": "3.5.0", "urls": {}}),
    ],
)
async def test_unadvertised_streaming_falls_back_to_the_origin(
    serve: Callable[..., Any], v2: Any, v1: Any
) -> None:
    """Not an error: Mastodon streams at its own origin behind nginx; the session checks."""
    base = await serve(v2=v2, v1=v1)
    info = await discover(Settings(target=base))
    assert info.streaming_advertised is False
    assert info.streaming_base == base  # the origin
    assert info.ws_base == base.replace("http://", "ws://")
    assert info.version in ("4.8.0", "3.5.0")


async def test_advertised_and_overridden_urls_count_as_advertised(
    serve: Callable[..., Any],
) -> None:
    base = await serve(v2=V2)
    assert (await discover(Settings(target=base))).streaming_advertised is True
    bare = await serve(v2={"version": "4.8.0"})
    info = await discover(Settings(target=bare, streaming_url="wss://s.example"))
    assert info.streaming_base == "https://s.example"
    assert info.streaming_advertised is False  # the instance's fact; --streaming-url wins


def test_origin_drops_path_query_and_fragment() -> None:
    assert origin("https://h.example:8443/sub/path?x=1#f") == "https://h.example:8443"


async def test_unreachable_target_is_a_discovery_error(unused_tcp_port: int) -> None:
    with pytest.raises(DiscoveryError, match="unreachable"):
        await discover(Settings(target=f"http://127.0.0.1:{unused_tcp_port}"))


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.1", False),
        ("169.254.1.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("93.184.216.34", True),
        ("2606:4700::1", True),
    ],
)
def test_public_address_classification(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_http_base_maps_ws_schemes_and_drops_query() -> None:
    assert http_base("wss://h.example/path/?x=1") == "https://h.example/path"
    assert http_base("ws://h:1") == "http://h:1"
    assert http_base("https://h/") == "https://h"
