"""End to end, bare mode: a streaming server alone, its Redis and its PostgreSQL, no Rails.

The reference server runs as Mastodon's streaming process would (``serve --bus redis
--database-url``: tokens, lists, relations and filters come from PostgreSQL); the suite gets only
``--streaming-url``, ``--stimulus redis --redis-url`` and ``--database-url`` and must seed its own
world, run every case but the ``--long`` ones, and leave the database as it found it. Without a
database (the reference reading its in-memory store, the suite given tokens and ids), there is no
error and every not_exercised case names the option that would exercise it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from timing import scaled

pytestmark = [pytest.mark.slow, pytest.mark.redis]

LONG_ONLY = {"ws.ping.server-keepalive", "ws.ping.no-pong-terminated"}
RUN_TIMEOUT_S = 300


@pytest.fixture
def reference(request: pytest.FixtureRequest, redis_url: str) -> Iterator[dict]:
    database = getattr(request, "param", None)
    args = [sys.executable, "-m", "conformance.reference", "serve", "--heartbeat", "1"]
    args += ["--bus", "redis", "--redis-url", redis_url]
    if database:
        args += ["--database-url", request.getfixturevalue("postgres_url")]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=scaled(30))


def _run(tmp_path: Path, extra: list[str], redis_url: str, streaming_url: str) -> dict:
    report = tmp_path / "report"
    command = [
        sys.executable,
        "-c",
        "import sys; from conformance.cli import main; sys.exit(main())",
        "run",
        "--streaming-url",
        streaming_url,
        "--stimulus",
        "redis",
        "--redis-url",
        redis_url,
        "--heartbeat-timeout",
        "2.5",
        "--report-dir",
        str(report),
        *extra,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSC_")}
    done = subprocess.run(
        command, env=env, timeout=scaled(RUN_TIMEOUT_S), capture_output=True, text=True
    )
    data = json.loads((report / "report.json").read_text(encoding="utf-8"))
    data["exit"] = done.returncode
    data["output"] = done.stdout + done.stderr
    return data


def _by_verdict(data: dict, verdict: str) -> list[dict]:
    return [r for r in data["results"] if r["verdict"] == verdict]


def _counts(url: str) -> tuple[int, ...]:
    with psycopg.connect(url) as conn:
        return tuple(
            conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("accounts", "users", "oauth_access_tokens", "lists", "mutes", "blocks")
        )


@pytest.mark.parametrize("reference", ["database"], indirect=True)
def test_bare_mode_with_a_database_exercises_everything_but_long(
    reference: dict, redis_url: str, postgres_url: str, tmp_path: Path
) -> None:
    before = _counts(postgres_url)
    data = _run(tmp_path, ["--database-url", postgres_url], redis_url, reference["streaming_url"])
    assert data["exit"] == 0, data["output"][-3000:]
    assert not _by_verdict(data, "fail") and not _by_verdict(data, "error")
    assert {r["requirement"] for r in _by_verdict(data, "not_exercised")} == LONG_ONLY
    assert _counts(postgres_url) == before  # the fixture world is gone
    for name in ("delivery.muted-author.excluded", "delivery.token-revoke.ends-stream"):
        assert any(r["requirement"] == name and r["verdict"] == "pass" for r in data["results"])


def test_bare_mode_without_a_database_names_the_option_for_each_gap(
    reference: dict, redis_url: str, tmp_path: Path
) -> None:
    a, b = reference["accounts"][:2]
    extra = ["--token", a["token"], "--second-token", b["token"], "--account-id", a["id"]]
    extra += ["--second-account-id", b["id"], "--list-id", str(reference["lists"][0]["id"])]
    data = _run(tmp_path, extra, redis_url, reference["streaming_url"])
    assert data["exit"] == 0, data["output"][-3000:]
    assert not _by_verdict(data, "error") and not _by_verdict(data, "fail")
    gaps = _by_verdict(data, "not_exercised")
    assert gaps
    for result in gaps:
        assert "--database-url" in result["message"] or "--long" in result["message"], result
    assert a["token"] not in json.dumps(data)


@pytest.mark.parametrize("reference", ["database"], indirect=True)
def test_ctrl_c_removes_the_fixture_world(
    reference: dict, redis_url: str, postgres_url: str, tmp_path: Path
) -> None:
    import signal
    import time

    before = _counts(postgres_url)
    command = [
        sys.executable,
        "-c",
        "import sys; from conformance.cli import main; sys.exit(main())",
        "run",
        "--streaming-url",
        reference["streaming_url"],
        "--stimulus",
        "redis",
        "--redis-url",
        redis_url,
        "--database-url",
        postgres_url,
        "--heartbeat-timeout",
        "2.5",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSC_")}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + scaled(120)
        seeded = False
        while time.monotonic() < deadline and proc.poll() is None:
            if _counts(postgres_url)[0] > before[0]:
                seeded = True
                break
            time.sleep(0.05)  # polling another process's progress: no event to wait on
        assert seeded, "the run never seeded its world"
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=scaled(60))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0
    assert _counts(postgres_url) == before
