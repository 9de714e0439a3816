"""Cleanup removes what a run caused: its notifications are dismissed, its uploads deleted, and
what the target does not let it remove is listed (``leftovers``, report.json)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from reference_proc import reference_server
from test_session_malformed_rest import Overrides, _driver, api  # noqa: F401 - fixture

from conformance.stimulus import base as sc


@pytest.fixture
def reference() -> Iterator[dict[str, Any]]:
    with reference_server("--heartbeat", "1") as line:
        yield line


async def test_cleanup_dismisses_notifications_and_deletes_media(
    reference: dict[str, Any],
) -> None:
    a, b = reference["accounts"][0], reference["accounts"][1]
    url = reference["url"]
    async with httpx.AsyncClient(base_url=url) as client:
        driver = _driver(client, url)
        driver._tokens = {"a": a["token"], "b": b["token"]}
        try:
            await driver.setup()
            made = await driver.produce(sc.STATUS_PUBLIC_MEDIA, "mscmedia")
            media_id = made.rest_bodies["status"]["media_attachments"][0]["id"]
            await driver.produce(sc.FOLLOW, "mscfollow")
            await driver.produce(sc.STATUS_MENTION, "mscmention")
            mine = await client.get(
                "/api/v1/notifications", headers={"Authorization": f"Bearer {a['token']}"}
            )
            assert {n["type"] for n in mine.json()} >= {"follow", "mention"}
        finally:
            await driver.cleanup()
        assert driver.leftovers == []
        for acc in (a, b):
            left = await client.get(
                "/api/v1/notifications", headers={"Authorization": f"Bearer {acc['token']}"}
            )
            assert left.json() == [], acc["acct"]
        gone = await client.get(
            f"/api/v1/media/{media_id}", headers={"Authorization": f"Bearer {b['token']}"}
        )
        assert gone.status_code == 404


def _status(code: int) -> Callable[[web.Request], web.StreamResponse]:
    return lambda request: web.json_response({"error": "nope"}, status=code)


async def test_what_cannot_be_removed_is_listed(api: Callable[[Overrides], Any]) -> None:  # noqa: F811
    """A server before Mastodon 4.4 has no DELETE /api/v1/media/:id; a dismiss may fail."""
    base = await api(
        {
            ("DELETE", "/api/v1/media/"): _status(404),
            ("POST", "/api/v1/notifications/"): _status(500),
            ("GET", "/api/v1/notifications"): lambda request: web.json_response(
                [{"id": "5", "type": "follow", "account": {"id": "2"}}]
            ),
        }
    )
    async with httpx.AsyncClient() as client:
        driver = _driver(client, base)
        await driver.setup()
        await driver.produce(sc.STATUS_PUBLIC_MEDIA, "mscmedia")
        await driver.cleanup()
    media = [x for x in driver.leftovers if x.startswith("media ")]
    assert len(media) == 1 and "still there" in media[0] and "4.4" in media[0]
    refused = [x for x in driver.leftovers if x.startswith("notification 5 of ")]
    assert len(refused) == 2 and "HTTP 500" in refused[0]  # one per account
    assert len(driver.leftovers) == 3, driver.leftovers
    assert not any("tok-" in x for x in driver.leftovers)
