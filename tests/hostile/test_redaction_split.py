"""No credential in any byte a run writes, even when the server echoes it split at every offset.

``echo_server.py`` sends back every credential it receives (bearer token, ``access_token``,
WebSocket subprotocol, and the ``user:password`` of the target URL via Basic auth), raw,
percent-encoded and base64-encoded, each cut into two reads at every byte offset. A whole run
against it (target given as ``http://user:PASSWORD@...``) and a ``replay`` of its report
directory must leave no token or password in the report files, the decoded transcript bytes,
stdout or stderr.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from hostile_support import (
    PASSWORD,
    SECOND_TOKEN,
    TOKEN,
    artefact_bytes,
    crafted_server,
    run_suite,
)
from timing import scaled

pytestmark = pytest.mark.slow


def forbidden() -> list[bytes]:
    """Each secret raw, percent-encoded and as the base64 core it has at any alignment."""
    out: list[bytes] = []
    for secret in (TOKEN, SECOND_TOKEN, PASSWORD):
        raw = secret.encode()
        out += [raw, quote(secret, safe="").encode()]
        for lead in range(3):
            encoded = base64.b64encode(b"\0" * lead + raw).rstrip(b"=")
            out.append(encoded[{0: 0, 1: 2, 2: 3}[lead] : -1])
    return out


def leaks(data: bytes) -> list[bytes]:
    return [secret for secret in forbidden() if secret in data]


def test_no_credential_in_any_artefact_or_output(tmp_path: Path) -> None:
    report = tmp_path / "report"
    with crafted_server("echo_server.py") as url:
        target = url.replace("http://", f"http://user:{PASSWORD}@")
        outcome = run_suite(target, report, bound_s=240)
    assert outcome.rc is not None, "the run did not end"
    assert not leaks(outcome.stdout.encode()), "stdout"
    assert not leaks(outcome.stderr.encode()), "stderr"
    checked = 0
    for path, data in artefact_bytes(report):
        assert not leaks(data), f"{path.relative_to(report)}: {leaks(data)}"
        checked += 1
    assert checked > 40
    # The echo really happened: every split SSE event was redacted whole.
    sse_bodies = b"".join(
        data for path, data in artefact_bytes(report) if "sse-public" in path.name
    )
    assert sse_bodies.count(b'"echo":"REDACTED"}') > len(TOKEN)

    # Replay of the report directory (no secret known to it) writes no credential either.
    replayed = tmp_path / "replayed"
    env = {k: v for k, v in os.environ.items() if k not in {"MSC_TOKEN", "MSC_SECOND_TOKEN"}}
    cli = Path(sys.executable).with_name("mastodon-streaming-conformance")
    proc = subprocess.run(
        [str(cli), "replay", str(report), "--report-dir", str(replayed)],
        capture_output=True,
        env=env,
        timeout=scaled(180),
    )
    assert proc.returncode in (0, 1), proc.stderr.decode()[-2000:]
    assert not leaks(proc.stdout) and not leaks(proc.stderr)
    for path, data in artefact_bytes(replayed):
        assert not leaks(data), f"replay {path.name}: {leaks(data)}"
