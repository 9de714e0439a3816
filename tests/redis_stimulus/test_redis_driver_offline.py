"""RedisDriver without Redis: bad settings and an unreachable server are StimulusErrors."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest

from conformance.config import Settings
from conformance.stimulus import base
from conformance.stimulus.redis import RedisDriver


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "stimulus": "redis",
        "redis_url": f"redis://127.0.0.1:{_closed_port()}/0",
        "account_id": "1",
        "second_account_id": "2",
        "list_id": "3",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "overrides",
    [{"redis_url": None}, {"account_id": None}, {"second_account_id": None}],
)
def test_missing_settings_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(base.StimulusError):
        RedisDriver.from_settings(_settings(**overrides), SimpleNamespace(base_url=None))


async def test_unreachable_redis_fails_setup_with_a_stimulus_error() -> None:
    driver = RedisDriver.from_settings(_settings(), SimpleNamespace(base_url=None))
    try:
        with pytest.raises(base.StimulusError, match="PING"):
            await driver.setup()
    finally:
        await driver.cleanup()


async def test_supports_every_catalogue_scenario_but_database_relations() -> None:
    driver = RedisDriver.from_settings(
        _settings(), SimpleNamespace(base_url="https://social.example")
    )
    try:
        unsupported = {s for s in base.SCENARIOS if not driver.supports(s)}
        assert unsupported == {base.MUTED_AUTHOR, base.BLOCKED_AUTHOR, base.TOKEN_REVOKE}
        assert "token" in driver.unsupported_reason(base.TOKEN_REVOKE)
        assert driver.fanout.cast.local_host == "social.example"
        assert driver.fanout.cast.list_id == "3"
    finally:
        await driver.cleanup()


# --- issue 13: no REST calls to a target without a REST API; reasons name the option -----------


@pytest.mark.parametrize(
    "target",
    [
        SimpleNamespace(base_url="http://127.0.0.1:4000", instance={}),  # no instance document
        SimpleNamespace(base_url="http://127.0.0.1:4000", instance={"uri": "x"}, bare=True),
    ],
    ids=["no-instance-document", "bare"],
)
async def test_no_http_client_for_a_target_without_a_rest_api(target: SimpleNamespace) -> None:
    driver = RedisDriver.from_settings(_settings(token="t", second_token="u"), target)
    try:
        assert driver._http is None  # nothing can ever be POSTed to the streaming server
        for scenario in (base.MUTED_AUTHOR, base.BLOCKED_AUTHOR):
            assert "--database-url" in driver.unsupported_reason(scenario)
        assert driver.facts() == frozenset({"remote-authors"})
    finally:
        await driver.cleanup()


async def test_database_url_replaces_account_ids_and_offers_tokens() -> None:
    settings = _settings(account_id=None, second_account_id=None, database_url="postgresql://x/y")
    driver = RedisDriver.from_settings(settings, SimpleNamespace(base_url=None))
    try:
        assert driver.world is not None
        assert driver.supports(base.MUTED_AUTHOR) and driver.supports(base.BLOCKED_AUTHOR)
        assert {"scoped-tokens", "revocation", "remote-authors"} <= driver.facts()
    finally:
        await driver.cleanup()
