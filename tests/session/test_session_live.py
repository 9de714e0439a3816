"""The REST driver and the whole live session against the reference server (a subprocess)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from reference_proc import reference_server
from timing import scaled

from conformance.config import Settings
from conformance.discovery import discover
from conformance.session import run_session
from conformance.stimulus import base as sc
from conformance.stimulus.rest import RestDriver
from conformance.verdicts import Verdict


@pytest.fixture
def reference() -> Iterator[dict[str, Any]]:
    with reference_server("--heartbeat", "1") as line:
        yield line


async def test_rest_driver_produces_and_cleans_up(reference: dict[str, Any]) -> None:
    a, b = reference["accounts"][0], reference["accounts"][1]
    async with httpx.AsyncClient() as client:
        driver = RestDriver(
            client,
            reference["url"],
            a["token"],
            b["token"],
            allow_public_posts=True,
            reference_extras=True,
            tag="msctest",
        )
        try:
            info = await driver.setup()
            assert (info.a.id, info.b.id) == (a["id"], b["id"])
            assert info.list_id and "scope:read:notifications" in info.tokens
            made = await driver.produce(sc.STATUS_PUBLIC, "mscmarker1")
            status_id = made.ids["status"]
            assert [t["name"] for t in made.rest_bodies["status"]["tags"]] == ["msctest"]
            await driver.produce(sc.FAVOURITE, "m2", status_id=status_id)
            assert not driver.supports(sc.NOTIFICATIONS_MERGED)
            with pytest.raises(sc.ScenarioUnsupported):
                await driver.produce(sc.NOTIFICATIONS_MERGED, "m3")
            assert driver.pending_cleanup
        finally:
            await driver.cleanup()
        assert driver.pending_cleanup == []
        gone = await client.get(
            f"{reference['url']}/api/v1/statuses/{status_id}",
            headers={"Authorization": f"Bearer {a['token']}"},
        )
        assert gone.status_code == 404
        rel = await client.get(
            f"{reference['url']}/api/v1/accounts/relationships",
            params={"id[]": b["id"]},
            headers={"Authorization": f"Bearer {a['token']}"},
        )
        if rel.status_code == 200:
            assert not rel.json()[0]["following"], "setup's follow must be undone"


def test_rest_driver_refuses_public_posts_when_off() -> None:
    driver = RestDriver(
        httpx.AsyncClient(),
        "http://127.0.0.1:9",
        "x" * 20,
        "y" * 20,
        allow_public_posts=False,
        reference_extras=False,
    )
    assert not driver.supports(sc.STATUS_PUBLIC)
    assert not driver.supports(sc.ANNOUNCEMENT)
    assert driver.supports(sc.STATUS_PRIVATE)
    assert "public posts" in driver.unsupported_reason(sc.STATUS_PUBLIC)


async def test_full_session_against_reference(reference: dict[str, Any]) -> None:
    a, b = reference["accounts"][0], reference["accounts"][1]
    settings = Settings(
        target=reference["url"], token=a["token"], second_token=b["token"], heartbeat_timeout_s=2.0
    )
    target = await discover(settings)
    started = time.monotonic()
    outcome = await run_session(settings, target)
    elapsed = time.monotonic() - started
    bad = [
        f"{r.verdict} {r.id}: {r.message}"
        for r in outcome.results.values()
        if r.verdict in (Verdict.FAIL, Verdict.ERROR)
    ]
    assert bad == []
    # The catalogue target plus CI slack, scaled for a loaded machine (MSC_TEST_TIME_SCALE).
    assert elapsed <= scaled(1.3 * 2.0 + 5.0 + 3.0)
    verdicts = {rid: r.verdict for rid, r in outcome.results.items()}
    assert verdicts["delivery.public-status.arrives[ws-hashtag-update]"] is Verdict.PASS
    assert verdicts["delivery.unlisted-status.excluded[sse-public-update]"] is Verdict.PASS
    assert verdicts["ws.multiplex.unsubscribe-stops[ws-public:local]"] is Verdict.PASS
    assert verdicts["delivery.token-revoke.ends-stream[sse-user]"] is Verdict.PASS
    delivery = [r for r in outcome.results.values() if r.requirement.startswith("delivery.")]
    assert all(r.verdict is not Verdict.NOT_EXERCISED for r in delivery), [
        r.id for r in delivery if r.verdict is Verdict.NOT_EXERCISED
    ]
    for t in outcome.transcripts:
        text = t.dumps()
        assert a["token"] not in text and b["token"] not in text


async def test_read_only_session_writes_nothing(reference: dict[str, Any]) -> None:
    a = reference["accounts"][0]
    settings = Settings(
        target=reference["url"],
        token=a["token"],
        read_only=True,
        observe_seconds=0.3,
        heartbeat_timeout_s=1.5,
    )
    target = await discover(settings)
    outcome = await run_session(settings, target)
    async with httpx.AsyncClient() as client:
        timeline = await client.get(f"{reference['url']}/api/v1/timelines/public")
    assert timeline.status_code == 200 and timeline.json() == []
    observed = outcome.results["delivery.read-only.observed[sse-public]"]
    assert observed.verdict is Verdict.INFO
    stimulated = outcome.results["delivery.public-status.arrives[sse-public-update]"]
    assert stimulated.verdict is Verdict.NOT_EXERCISED
    assert "read-only" in stimulated.message
    assert not [r for r in outcome.results.values() if r.verdict is Verdict.FAIL]
