"""REST answers are untrusted input: a malformed one is that step's error, never a session crash.

A crafted server answers like a Mastodon API except for one answer. A media upload without
``id`` once raised ``KeyError`` out of the driver and turned all 874 cases into ``error``.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from aiohttp import web

from conformance.stimulus import base as sc
from conformance.stimulus.base import StimulusError
from conformance.stimulus.rest import RestDriver
from conformance.stimulus.rest.answers import MalformedAnswer
from conformance.stimulus.rest.calls import MAX_ANSWER_BYTES

TOKENS = {"Bearer tok-a-0123456789": "1", "Bearer tok-b-0123456789": "2"}
Overrides = dict[tuple[str, str], Callable[[web.Request], web.StreamResponse]]


def _fake_api(overrides: Overrides) -> web.Application:
    """Just enough of Mastodon for setup and a few scenarios; ``overrides`` replace answers
    by (method, path prefix)."""
    ids = itertools.count(100)

    async def handle(request: web.Request) -> web.StreamResponse:
        for (method, prefix), answer in overrides.items():
            if request.method == method and request.path.startswith(prefix):
                return answer(request)
        me = TOKENS.get(request.headers.get("Authorization", ""), "0")
        path = request.path
        if path == "/api/v1/accounts/verify_credentials":
            return web.json_response({"id": me, "acct": f"user{me}", "username": f"user{me}"})
        if path == "/api/v1/accounts/relationships":
            return web.json_response([{"id": "2", "following": False}])
        if path.endswith("/accounts") and request.method == "GET":
            return web.json_response([])
        if path == "/api/v1/notifications":
            return web.json_response([])
        if request.method in ("POST", "PUT"):
            return web.json_response({"id": str(next(ids)), "url": "http://x/y.png"})
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


@pytest.fixture
async def api() -> AsyncIterator[Callable[[Overrides], Any]]:
    runners: list[web.AppRunner] = []

    async def start(overrides: Overrides) -> str:
        runner = web.AppRunner(_fake_api(overrides))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


def _driver(client: httpx.AsyncClient, base: str) -> RestDriver:
    return RestDriver(
        client,
        base,
        "tok-a-0123456789",
        "tok-b-0123456789",
        allow_public_posts=True,
        reference_extras=False,
        tag="msctest",
    )


def _json(body: Any) -> Callable[[web.Request], web.StreamResponse]:
    return lambda request: web.json_response(body)


def _raw(body: bytes) -> Callable[[web.Request], web.StreamResponse]:
    return lambda request: web.Response(body=body, content_type="application/json")


@pytest.mark.parametrize(
    ("override", "scenario", "match"),
    [
        ({("POST", "/api/v2/media"): _json({"url": "x"})}, sc.STATUS_PUBLIC_MEDIA, "'id'"),
        ({("POST", "/api/v2/media"): _json([1])}, sc.STATUS_PUBLIC_MEDIA, "JSON object"),
        ({("POST", "/api/v1/statuses"): _json({"id": None})}, sc.STATUS_UNLISTED, "'id'"),
        ({("POST", "/api/v1/statuses"): _json("ok")}, sc.STATUS_PRIVATE, "JSON object"),
        ({("POST", "/api/v2/filters"): _json({"id": True})}, sc.FILTER_CHANGE, "'id'"),
        (
            {("POST", "/api/v1/statuses"): _raw(b"[" * 100_000 + b"]" * 100_000)},
            sc.STATUS_UNLISTED,
            "nested more than",
        ),
        (
            {("POST", "/api/v1/statuses"): _raw(b'"' + b"a" * (MAX_ANSWER_BYTES + 1) + b'"')},
            sc.STATUS_UNLISTED,
            "larger than",
        ),
    ],
)
async def test_a_malformed_answer_is_that_steps_error(
    api: Callable[[Overrides], Any], override: Overrides, scenario: str, match: str
) -> None:
    base = await api(override)
    async with httpx.AsyncClient() as client:
        driver = _driver(client, base)
        try:
            await driver.setup()
            with pytest.raises(StimulusError, match=match) as caught:
                await driver.produce(scenario, "mscmarker")
            # the next step still works
            after = sc.STATUS_DIRECT if scenario == sc.FILTER_CHANGE else sc.FILTER_CHANGE
            made = await driver.produce(after, "mscnext")
            assert made.ids
        finally:
            await driver.cleanup()
    assert "tok-" not in str(caught.value)


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({("GET", "/api/v1/accounts/verify_credentials"): _json([])}, "JSON object"),
        ({("GET", "/api/v1/accounts/verify_credentials"): _json({"acct": "x"})}, "'id'"),
        ({("POST", "/api/v1/lists"): _json({"title": "no id"})}, "'id'"),
        ({("GET", "/api/v1/lists/"): _json({"accounts": []})}, "JSON array"),
        ({("GET", "/api/v1/accounts/relationships"): _json({"following": 1})}, "JSON array"),
    ],
)
async def test_a_malformed_setup_answer_is_a_setup_error(
    api: Callable[[Overrides], Any], override: Overrides, match: str
) -> None:
    base = await api(override)
    async with httpx.AsyncClient() as client:
        driver = _driver(client, base)
        try:
            with pytest.raises(MalformedAnswer, match=match):
                await driver.setup()
        finally:
            await driver.cleanup()


async def test_an_unanticipated_shape_is_still_a_stimulus_error(
    api: Callable[[Overrides], Any],
) -> None:
    """The last line of defence: an answer no helper checks cannot escape as a KeyError."""
    base = await api({})
    async with httpx.AsyncClient() as client:
        driver = _driver(client, base)
        await driver.setup()

        async def broken(*args: Any) -> Any:
            return {}["id"]

        from conformance.stimulus.rest import scenarios

        original = scenarios.HANDLERS[sc.STATUS_UNLISTED]
        scenarios.HANDLERS[sc.STATUS_UNLISTED] = broken  # type: ignore[assignment]
        try:
            with pytest.raises(MalformedAnswer, match="KeyError"):
                await driver.produce(sc.STATUS_UNLISTED, "m")
        finally:
            scenarios.HANDLERS[sc.STATUS_UNLISTED] = original
            await driver.cleanup()
