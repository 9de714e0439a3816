"""Capability gating: what the target does not claim is not_exercised with the reason, not fail."""

from __future__ import annotations

import dataclasses

import pytest
from reference_proc import reference_server

from conformance.config import Settings
from conformance.discovery import discover
from conformance.session import run_session
from conformance.session.capabilities import (
    GATES,
    NO_STREAMING_URL,
    advertised_streaming_url,
    gated_steps,
    parse_version,
)
from conformance.session.plan import STEP_BY_KEY
from conformance.verdicts import Verdict


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("4.8.0-alpha.1", (4, 8, 0)),
        ("3.5.3+glitch", (3, 5, 3)),
        ("2.7.2 (compatible; Pleroma 2.5.0)", (2, 7, 2)),
        ("4.3", (4, 3, 0)),
        ("v4.0.1", (4, 0, 1)),
        ("garbage", None),
        (None, None),
    ],
)
def test_parse_version(text: object, parsed: tuple[int, int, int] | None) -> None:
    assert parse_version(text) == parsed


def test_gates_name_real_steps() -> None:
    for gate in GATES:
        assert gate.steps and gate.steps <= set(STEP_BY_KEY), gate.name


@pytest.mark.parametrize(
    ("version", "facts", "gated"),
    [
        ("4.8.0", {"reference"}, set()),
        ("4.2.9", {"reference"}, {"NM"}),
        ("3.9.0", {"redis"}, {"NM", "FC"}),
        ("3.4.1", {"reference"}, {"NM", "FC", "E"}),
        ("4.8.0", set(), {"AN", "AR", "AD"}),
        (None, {"redis"}, set()),  # no version: assume capable
    ],
)
def test_gated_steps(version: str | None, facts: set[str], gated: set[str]) -> None:
    found = gated_steps(version, facts)
    assert set(found) == gated
    if "E" in gated:
        assert ">= 3.5" in found["E"] and "3.4.1" in found["E"]


def test_advertised_streaming_url() -> None:
    v2 = {"configuration": {"urls": {"streaming": "wss://s.example"}}}
    v1 = {"urls": {"streaming_api": "wss://t.example"}}
    assert advertised_streaming_url(v2) == "wss://s.example"
    assert advertised_streaming_url(v1) == "wss://t.example"
    assert advertised_streaming_url({"urls": {"streaming_api": None}}) is None
    assert advertised_streaming_url({}) is None


@pytest.mark.slow
async def test_old_version_and_missing_streaming_url_are_not_exercised(
    unused_tcp_port: int,
) -> None:
    with reference_server("--heartbeat", "1") as ref:
        a, b = ref["accounts"][0], ref["accounts"][1]
        settings = Settings(
            target=ref["url"], token=a["token"], second_token=b["token"], heartbeat_timeout_s=1.2
        )
        target = await discover(settings)
        old = await run_session(settings, dataclasses.replace(target, version="3.4.0"))
        # advertises nothing, and nothing streams at the fallback origin either
        bare = dataclasses.replace(
            target,
            instance={"version": "4.8.0", "uri": "x"},
            streaming_advertised=False,
            streaming_base=f"http://127.0.0.1:{unused_tcp_port}",
        )
        with pytest.warns(UserWarning, match="none found at"):
            silent = await run_session(dataclasses.replace(settings, stimulus="none"), bare)
    edit = old.results["delivery.edit.status-update[sse-user-status.update]"]
    assert edit.verdict is Verdict.NOT_EXERCISED and ">= 3.5" in edit.message
    filt = old.results["delivery.filter-change.observed[sse-user-filters_changed]"]
    assert filt.verdict is Verdict.NOT_EXERCISED and ">= 4.0" in filt.message
    assert old.results["delivery.delete.everywhere[sse-user-delete]"].verdict is Verdict.PASS
    assert not [r for r in old.results.values() if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    stream_case = silent.results["sse.heartbeat.within-timeout[sse-user]"]
    assert stream_case.verdict is Verdict.NOT_EXERCISED
    assert NO_STREAMING_URL in stream_case.message
    assert not [r for r in silent.results.values() if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    # the instance documents are still fetched (they are on the web host)
    assert silent.results["discovery.streaming-url.form[http-instance-v2]"].verdict is Verdict.PASS
