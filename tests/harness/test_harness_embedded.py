"""The embedded-server launcher: start on free ports, announce, stop; and a clear failure."""

from __future__ import annotations

import httpx
import pytest
from timing import scaled

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
