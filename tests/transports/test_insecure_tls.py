"""``--insecure`` reaches every transport: a whole session against the reference server behind a
TLS-terminating proxy with a self-signed certificate passes REST, SSE and WebSocket cases, and
without it the WebSocket recorder refuses the certificate.

The certificate is made with the ``openssl`` CLI (Debian base system; ``scripts/setup.sh`` needs
nothing extra). The proxy is a plain asyncio byte pipe: TLS in front, the reference server's
plain HTTP port behind, so the suite sees ``https://`` and ``wss://`` exactly as against a real
deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from timing import scaled

from conformance.config import Settings
from conformance.discovery import discover
from conformance.embedded import embedded_server
from conformance.session import run_session
from conformance.transcript.model import Meta
from conformance.transports.ws import WSRecorder
from conformance.verdicts import Verdict

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI"),
]
RUN_DEADLINE_S = scaled(120.0)


def _self_signed(tmp: Path) -> ssl.SSLContext:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=scaled(60),
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()


@contextlib.asynccontextmanager
async def tls_proxy(context: ssl.SSLContext, backend: str) -> AsyncIterator[int]:
    parts = urlsplit(backend)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(parts.hostname, parts.port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def _session(backend: str, token: str, second: str, context: ssl.SSLContext) -> object:
    async with tls_proxy(context, backend) as port:
        settings = Settings(
            target=f"https://127.0.0.1:{port}",
            streaming_url=f"wss://127.0.0.1:{port}",
            token=token,
            second_token=second,
            heartbeat_timeout_s=2.0,
            # every connection's TLS handshake goes through one Python proxy: on a loaded
            # machine the default deadlines, not shortened ones (scaled like every self-test
            # timing: it failed beside two CPU burners at MSC_TEST_TIME_SCALE=3 when fixed)
            timeout_multiplier=scaled(1.0),
            verify_tls=False,
        )
        target = await discover(settings)
        outcome = await asyncio.wait_for(run_session(settings, target), RUN_DEADLINE_S)
        # Without --insecure, the same certificate is refused by the WebSocket transport.
        meta = Meta(id="strict", transport="ws", request={}, context={"purpose": "stream"})
        strict = WSRecorder(f"wss://127.0.0.1:{port}/api/v1/streaming?stream=public", meta=meta)
        await strict.start()
        await strict.close()
        return outcome, strict.transcript


def test_insecure_passes_sse_ws_and_rest_behind_a_self_signed_certificate(tmp_path: Path) -> None:
    context = _self_signed(tmp_path)
    with embedded_server(heartbeat_s=1.0) as server:
        alice, bob = server.accounts[0], server.accounts[1]
        outcome, strict = asyncio.run(_session(server.url, alice.token, bob.token, context))
    results = [*outcome.results.values(), *outcome.extra_results]  # type: ignore[attr-defined]
    bad = [r for r in results if r.verdict in (Verdict.FAIL, Verdict.ERROR)]
    assert not bad, [(r.id, r.message[:160]) for r in bad[:10]]
    for transport in ("sse", "ws"):
        passed = [r for r in results if r.transport == transport and r.verdict is Verdict.PASS]
        assert len(passed) > 50, transport
    delivered = [
        r for r in results if r.requirement.startswith("delivery.") and r.verdict is Verdict.PASS
    ]
    assert delivered, "the REST stimulus worked over TLS"
    end = strict.end
    assert end is not None and end.fields["how"] == "error"
    assert "certificate" in end.fields["detail"].lower()
