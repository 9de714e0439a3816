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
