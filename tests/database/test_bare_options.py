"""Bare-mode options: what is accepted, what is refused in one line, what the plan leaves out."""

from __future__ import annotations

import httpx
import pytest

from conformance.bare import discover_bare, discover_target, is_bare
from conformance.config import Settings, SettingsError, resolve_settings
from conformance.discovery import DiscoveryError
from conformance.session.capabilities import NEED_REASONS
from conformance.session.plan import connections, plan_cases

STREAMING = "http://127.0.0.1:4000"
REDIS = "redis://127.0.0.1:6379/0"
DB = "postgresql://msc:s3cret@127.0.0.1:5432/mastodon"


def test_streaming_url_alone_is_the_bare_mode() -> None:
    settings = resolve_settings({"streaming_url": STREAMING}, environ={})
    assert settings.target is None and is_bare(settings)
    assert not is_bare(Settings())  # embedded
    assert not is_bare(Settings(target="http://x", streaming_url=STREAMING))


@pytest.mark.parametrize(
    ("cli", "fix"),
    [
        ({"streaming_url": STREAMING, "database_url": DB}, "--stimulus redis"),
        ({"stimulus": "redis", "redis_url": REDIS, "database_url": DB}, "--streaming-url"),
    ],
)
def test_database_url_combinations_are_refused_naming_the_fix(cli: dict, fix: str) -> None:
    with pytest.raises(SettingsError, match=fix):
        resolve_settings(cli, environ={})


def test_a_database_url_that_is_not_postgres_is_refused() -> None:
    with pytest.raises(SettingsError, match="MSC_DATABASE_URL"):
        resolve_settings({}, environ={"MSC_DATABASE_URL": "mysql://x/y"})


def test_the_database_password_is_a_secret() -> None:
    settings = Settings(streaming_url=STREAMING, stimulus="redis", redis_url=REDIS, database_url=DB)
    assert "s3cret" in settings.secrets()


def test_the_bare_plan_has_no_instance_documents_and_no_discovery_case() -> None:
    bare = Settings(streaming_url=STREAMING, stimulus="redis", redis_url=REDIS, database_url=DB)
    keys = {c.key for c in connections(bare)}
    assert not {"http-instance-v1", "http-instance-v2"} & keys
    assert not [c for c in plan_cases(bare) if c.requirement.startswith("discovery.")]
    assert {"http-instance-v1", "http-instance-v2"} <= {c.key for c in connections(Settings())}


def test_scoped_tokens_revocation_and_remote_authors_name_the_option() -> None:
    assert "--database-url" in NEED_REASONS["scoped-tokens"]
    assert "--database-url" in NEED_REASONS["revocation"]
    assert "--stimulus redis" in NEED_REASONS["remote-authors"]


async def test_bare_discovery_probes_health_and_names_no_rest_api() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, text="OK")

    settings = Settings(streaming_url="ws://127.0.0.1:4000")
    target = await discover_target(settings, transport=httpx.MockTransport(answer))
    assert seen == ["/api/v1/streaming/health"]
    assert target.bare and target.instance == {} and not target.is_reference
    assert target.streaming_base == STREAMING and not target.is_public_host


async def test_an_unreachable_bare_server_is_a_discovery_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(DiscoveryError, match="--streaming-url"):
        await discover_bare(
            Settings(streaming_url=STREAMING), transport=httpx.MockTransport(refuse)
        )
