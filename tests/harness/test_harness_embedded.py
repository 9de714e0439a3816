"""The embedded-server launcher: start on free ports, announce, stop; and a clear failure."""

from __future__ import annotations

import httpx
import pytest
from timing import scaled

from conformance import embedded
from conformance.embedded import EmbeddedError, embedded_server, start_embedded


def test_starts_announces_and_stops_the_reference_server() -> None:
    with embedded_server(heartbeat_s=1) as server:
        assert server.running()
        assert server.url.startswith("http://127.0.0.1:")
        assert server.streaming_url.startswith(("ws://127.0.0.1:", "http://127.0.0.1:"))
        assert len(server.accounts) == 2 and all(a.token for a in server.accounts)
        assert server.lists and server.lists[0]["owner_id"] == server.accounts[0].id
        response = httpx.get(f"{server.url}/api/v2/instance", timeout=scaled(5))
        assert response.status_code == 200
        process = server.process
    assert process.poll() is not None
    assert not server.running()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/api/v2/instance", timeout=scaled(2))


def test_a_server_that_cannot_start_raises_with_its_stderr() -> None:
    with pytest.raises(EmbeddedError) as info:
        start_embedded(extra_args=["--no-such-option"], startup_timeout_s=scaled(20))
    message = str(info.value)
    assert "before announcing itself" in message
    assert "--no-such-option" in message  # argparse's complaint, from the child's stderr


def test_a_prestarted_server_is_adopted_by_a_start_with_the_same_arguments() -> None:
    embedded.prestart(heartbeat_s=1)
    pending = embedded._prestarted[0].process
    with embedded_server(heartbeat_s=1) as server:
        assert server.process is pending and server.running()
        assert not embedded._prestarted
    assert pending.poll() is not None  # stopped with the server that adopted it


def test_a_prestarted_server_with_other_arguments_is_stopped_not_served() -> None:
    embedded.prestart(heartbeat_s=1)
    pending = embedded._prestarted[0].process
    with embedded_server(heartbeat_s=2) as server:
        assert server.process is not pending
        assert pending.poll() is not None


def test_discarding_stops_an_unadopted_prestarted_server() -> None:
    embedded.prestart(heartbeat_s=1)
    pending = embedded._prestarted[0].process
    embedded.discard_prestarted()
    embedded.discard_prestarted()  # idempotent
    assert pending.poll() is not None and not embedded._prestarted


def test_only_a_server_without_connections_skips_the_ca_bundle() -> None:
    """An in-memory embedded server opens no connection: it skips loading the CA bundle
    (aiohttp loads it at import). With a Redis (maybe over TLS) its environment is unchanged."""
    import os

    memory = embedded.embedded_env(["--host", "127.0.0.1", "--port", "0"])
    assert memory["SSL_CERT_FILE"] == os.devnull == memory["SSL_CERT_DIR"]
    redis = embedded.embedded_env(["--bus", "redis", "--redis-url", "rediss://r.example:6380/0"])
    assert redis.get("SSL_CERT_FILE") == os.environ.get("SSL_CERT_FILE")
    assert redis.get("SSL_CERT_DIR") == os.environ.get("SSL_CERT_DIR")
    with embedded_server() as server:  # and it still starts and answers
        assert httpx.get(f"{server.url}/api/v1/streaming/health", timeout=scaled(10)).text == "OK"
