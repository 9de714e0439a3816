"""A server over capacity is one finding (http.concurrency.capacity), not an error per case."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from reference_proc import reference_server

from conformance.config import Settings
from conformance.discovery import discover
from conformance.judge.capacity import capacity_finding
from conformance.matrix.run_context import RunContext
from conformance.session import run_session
from conformance.transcript.model import Meta, Transcript
from conformance.verdicts import Level, Result, Verdict


def _result(key: str) -> Result:
    return Result(
        id=f"x[{key}]", requirement="x", verdict=Verdict.ERROR, level=Level.MUST,
        message="", transcript=key,
    )  # fmt: skip


def test_overload_becomes_one_finding_and_not_exercised_cases() -> None:
    keys = [f"sse-{i}" for i in range(5)]
    by_key = {k: Transcript(Meta(id=k, transport="sse", request={}, context={})) for k in keys}
    failures = {k: "gave up after 3 attempts: 503 Service Unavailable" for k in keys[:4]}
    results = {f"x[{k}]": _result(k) for k in keys}
    finding, explained = capacity_finding(results, by_key, RunContext(setup_failures=failures))
    assert explained == set(keys[:4])
    (one,) = finding
    assert one.requirement == "http.concurrency.capacity" and one.verdict is Verdict.WARN
    assert "4 of" in one.message
    assert results["x[sse-0]"].verdict is Verdict.NOT_EXERCISED
    assert results["x[sse-0]"].cause == "http.concurrency.capacity"


def test_one_or_two_given_up_setups_stay_errors() -> None:
    failures = {"a": "gave up after 3 attempts: 503 Service Unavailable"}
    assert capacity_finding({}, {}, RunContext(setup_failures=failures)) == ([], set())


@pytest.fixture
def small_server() -> Iterator[dict[str, Any]]:
    with reference_server("--heartbeat", "1", "--max-connections", "12") as line:
        yield line


@pytest.mark.slow
async def test_a_small_server_gives_one_finding(small_server: dict[str, Any]) -> None:
    a, b = small_server["accounts"][0], small_server["accounts"][1]
    settings = Settings(
        target=small_server["url"],
        token=a["token"],
        second_token=b["token"],
        heartbeat_timeout_s=2.0,
        timeout_multiplier=0.3,
        max_connections=30,  # more than the server's 12: it refuses the rest
    )
    outcome = await run_session(settings, await discover(settings))
    results = [*outcome.results.values(), *outcome.extra_results]
    capacity = [r for r in results if r.requirement == "http.concurrency.capacity"]
    assert [r.verdict for r in capacity] == [Verdict.WARN], capacity
    errors = [r for r in results if r.verdict is Verdict.ERROR]
    assert errors == [], [f"{r.id}: {r.message}" for r in errors[:5]]
