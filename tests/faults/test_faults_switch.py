"""The fault switch itself, fast and in-process: names are checked, off means off, on means on.

Also pins the delivery-judge fix the live mutants exposed: a status that must stay off a stream
is caught whatever event it leaks as (a direct message leaks onto public as ``update``, not as
the ``conversation`` it is expected as on ``direct``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from timing import scaled

from conformance.judge.delivery import Seen, leaked, matches
from conformance.reference import faults
from conformance.reference.__main__ import build_parser, settings_from_args
from conformance.reference.app import start_server
from conformance.reference.settings import Settings
from conformance.reference.store import Store
from conformance.reference.streaming.channels import ChannelPlan, has_scope, plan_channels
from conformance.reference.streaming.errors import StreamError
from conformance.session.plan import STEP_BY_KEY
from conformance.stimulus.base import Produced

HEALTH = "/api/v1/streaming/health"


@pytest.fixture(autouse=True)
def _faithful_afterwards() -> object:
    yield None
    faults.install(())  # the active set is process-wide: never leak a fault into other tests


def test_cli_collects_repeated_faults() -> None:
    args = build_parser().parse_args(
        ["serve", "--fault", "sse-crlf", "--fault", "health-body", "--fault", "sse-crlf"]
    )
    assert settings_from_args(args).faults == frozenset({"sse-crlf", "health-body"})
    assert settings_from_args(build_parser().parse_args(["serve"])).faults == frozenset()


def test_cli_rejects_an_unknown_fault(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--fault", "no-such-fault"])
    assert "no-such-fault" in capsys.readouterr().err


def test_install_validates_and_active_refuses_unknown_hook_names() -> None:
    with pytest.raises(ValueError, match="bogus"):
        faults.install(["sse-crlf", "bogus"])
    faults.install(["sse-crlf"])
    assert faults.active("sse-crlf") and not faults.active("sse-no-heartbeat")
    with pytest.raises(KeyError):
        faults.active("sse-crfl")  # a typo in a hook must not silently disable the fault
    faults.install(())
    assert faults.current() == frozenset() and not faults.active("sse-crlf")


def test_every_fault_is_described() -> None:
    assert len(faults.FAULTS) >= 20
    assert all(text.strip() for text in faults.FAULTS.values())


@pytest.fixture
async def health_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    server = await start_server(
        Settings(faults=frozenset(request.param)), store=Store.seeded(), with_web=False
    )
    try:
        yield server.url + HEALTH
    finally:
        await server.close()


@pytest.mark.parametrize(
    ("health_url", "status", "body"),
    [((), 200, "OK"), (("health-body",), 200, "healthy"), (("health-503",), 503, "OK")],
    indirect=["health_url"],
)
async def test_start_server_applies_its_settings_faults(
    health_url: str, status: int, body: str
) -> None:
    async with httpx.AsyncClient(timeout=scaled(5.0)) as client:
        response = await client.get(health_url)
    assert (response.status_code, response.text) == (status, body)


# -- hooks that are plain functions: off changes nothing, on breaks exactly the rule ----------


def _plan(name: str, params: dict[str, str], account_id: str = "1") -> ChannelPlan:
    return plan_channels(
        name, params, account_id=account_id, scopes=frozenset({"read"}), list_owner={"7": "1"}.get
    )


def test_channel_faults_are_off_by_default_and_break_their_rule_when_on() -> None:
    with pytest.raises(StreamError, match="Missing tag"):
        _plan("hashtag", {})
    with pytest.raises(StreamError, match="Missing list"):
        _plan("list", {})
    with pytest.raises(StreamError, match="Not authorized"):
        _plan("list", {"list": "7"}, account_id="2")
    assert not has_scope(frozenset({"read:notifications"}), "public")
    assert _plan("hashtag", {"tag": "MiXed"}).stream == ("hashtag", "MiXed")
    assert _plan("hashtag", {"tag": "MiXed"}).channel_ids == ("timeline:hashtag:mixed",)
    faults.install(
        [
            "accept-missing-tag",
            "accept-missing-list",
            "accept-foreign-list",
            "scopes-not-enforced",
            "hashtag-case-sensitive",
            "ws-stream-normalized-tag",
            "hashtag-carries-public",
        ]
    )
    assert _plan("hashtag", {}).channel_ids == ("timeline:hashtag:untagged", "timeline:public")
    assert _plan("list", {}).channel_ids == ("timeline:list:",)
    assert _plan("list", {"list": "7"}, account_id="2").channel_ids == ("timeline:list:7",)
    assert has_scope(frozenset({"read:notifications"}), "public")
    assert _plan("hashtag:local", {"tag": "MiXed"}).channel_ids == ("timeline:hashtag:MiXed:local",)
    assert _plan("hashtag:local", {"tag": "MiXed"}).stream == ("hashtag:local", "MiXed")


def test_ws_token_source_faults_drop_only_their_source() -> None:
    headers = {"Authorization": "Bearer x", "Sec-WebSocket-Protocol": "y"}
    query = {"access_token": ["z"], "stream": ["user"]}
    assert faults.ws_token_sources(headers, query) == (headers, query)
    faults.install(["ws-ignore-query-token"])
    assert faults.ws_token_sources(headers, query) == (headers, {"stream": ["user"]})
    faults.install(["ws-ignore-subprotocol-token"])
    assert faults.ws_token_sources(headers, query) == ({"Authorization": "Bearer x"}, query)


# -- the delivery judge's absence check ---------------------------------------------------------


def _produced(status_id: str) -> Produced:
    return Produced(scenario="status.direct", marker="m", ids={"status": status_id})


def test_a_direct_status_leaking_as_update_counts_as_delivered() -> None:
    step = STEP_BY_KEY["D"]
    assert step.event == "conversation"
    leak = Seen(0, "update", {"id": "117", "content": "m"}, None, None)
    assert not matches(step, _produced("117"), leak)  # the old absence test missed it
    assert leaked(step, _produced("117"), leak)


def test_leak_matching_stays_specific() -> None:
    step = STEP_BY_KEY["D"]
    produced = _produced("117")
    other = Seen(0, "conversation", {"id": "117", "last_status": {"id": "9"}}, None, None)
    assert not leaked(step, produced, other)  # a conversation id is not a status id
    assert leaked(
        step, produced, Seen(0, "conversation", {"last_status": {"id": "117"}}, None, None)
    )
    assert not leaked(step, produced, Seen(0, "update", {"id": "118"}, None, None))
    assert not leaked(step, produced, Seen(0, "delete", "117", None, None))
    mention = STEP_BY_KEY["M"]
    assert not leaked(mention, produced, Seen(0, "update", {"id": "117"}, None, None))
