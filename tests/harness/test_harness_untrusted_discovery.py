"""Discovery answers are untrusted input: every way of not being readable is one line, exit 2.

Each crafted server below once turned a run into 874 pytest errors with full tracebacks (3 MB of
stdout), a report with 0 results and exit 0. Now ``discover`` raises ``DiscoveryError`` for each
and the CLI prints one line and exits 2.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from conformance.config import Settings
from conformance.discovery import MAX_DOCUMENT_BYTES, DiscoveryError, discover

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CLI = [sys.executable, "-c", "import sys; from conformance.cli import main; sys.exit(main())"]


async def _loop(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(location=str(request.rel_url))  # itself, forever


async def _bad_gzip(request: web.Request) -> web.StreamResponse:
    return web.Response(
        body=b"\x00not gzip at all",
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )


async def _deep(request: web.Request) -> web.StreamResponse:
    return web.Response(body=b"[" * 200_000 + b"]" * 200_000, content_type="application/json")


async def _huge(request: web.Request) -> web.StreamResponse:
    filler = b'{"version": "4.8.0", "x": "' + b"a" * (MAX_DOCUMENT_BYTES + 10) + b'"}'
    return web.Response(body=filler, content_type="application/json")


async def _array(request: web.Request) -> web.StreamResponse:
    return web.json_response([1, 2, 3])


async def _bad_streaming_url(request: web.Request) -> web.StreamResponse:
    return web.json_response(
        {"version": "4.8.0", "configuration": {"urls": {"streaming": "ws://[::1:bad"}}}
    )


async def _gopher(request: web.Request) -> web.StreamResponse:
    return web.json_response(
        {"version": "4.8.0", "configuration": {"urls": {"streaming": "gopher://h.example"}}}
    )


async def _gzip_ok(request: web.Request) -> web.StreamResponse:
    body = gzip.compress(b'{"version": "4.8.0", "configuration": {"urls": {"streaming": 7}}}')
    return web.Response(
        body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
    )


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    servers: list[TestServer] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


@pytest.mark.parametrize(
    ("handler", "match"),
    [
        (_loop, "redirects"),
        (_bad_gzip, "cannot be read: DecodingError"),
        (_deep, "nested more than 64 levels"),
        (_huge, "larger than"),
        (_array, "Mastodon server"),
        (_bad_streaming_url, "not a URL.*--streaming-url"),
        (_gopher, "not a ws\\(s\\)/http\\(s\\) URL.*--streaming-url"),
    ],
)
async def test_unreadable_answers_are_discovery_errors(
    serve: Callable[[Handler], Awaitable[str]], handler: Handler, match: str
) -> None:
    base = await serve(handler)
    with pytest.raises(DiscoveryError, match=match) as caught:
        await discover(Settings(target=base))
    assert "\n" not in str(caught.value)


async def test_wrong_shaped_streaming_value_falls_back_to_the_origin(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    """A streaming URL that is not a string is 'not advertised' (the form check reports it)."""
    base = await serve(_gzip_ok)
    info = await discover(Settings(target=base))
    assert info.streaming_advertised is False and info.streaming_base == base


@pytest.mark.parametrize("handler", [_loop, _deep])
async def test_cli_prints_one_line_and_exits_2(
    serve: Callable[[Handler], Awaitable[str]], handler: Handler, tmp_path: Path
) -> None:
    base = await serve(handler)
    root = str(Path(__file__).resolve().parents[2])
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        "run",
        "--target",
        base,
        "--token=tok-a-0123456789",
        "--second-token=tok-b-0123456789",
        "--report-dir",
        str(tmp_path / "r"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": root},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    text = (out + err).decode()
    assert proc.returncode == 2, text[-2000:]
    assert "Traceback" not in text
    assert len(text) < 5000, text[-2000:]
    assert sum("mastodon-streaming-conformance: target" in ln for ln in text.splitlines()) == 1
