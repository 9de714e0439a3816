"""Safety of a live run: rate limits are honoured, Ctrl-C still cleans up, tokens never leak,
--read-only writes nothing, and a served target gets the same verdicts as the embedded run."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from reference_proc import reference_server
from timing import scaled

from conformance.config import add_argparse_options, settings_to_args
from conformance.stimulus.base import StimulusError
from conformance.stimulus.rest import RestDriver

CLI = [sys.executable, "-c", "import sys; from conformance.cli import main; sys.exit(main())"]
FAST = ["--embedded-heartbeat", "1", "--heartbeat-timeout", "2.5"]


# -- 429 ----------------------------------------------------------------------------------------


async def _fake(handler: Any) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def test_429_retry_after_is_waited_out_and_retried() -> None:
    hits: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(time.monotonic())
        if len(hits) == 1:
            return web.json_response(
                {"error": "slow down"}, status=429, headers={"Retry-After": "0.3"}
            )
        return web.json_response({"id": "1", "acct": "a"})

    runner, base = await _fake(handler)
    try:
        async with httpx.AsyncClient() as client:
            driver = RestDriver(
                client,
                base,
                "tok-a-0123456789",
                "tok-b-0123456789",
                allow_public_posts=False,
                reference_extras=False,
            )
            got = await driver._call("a", "GET", "/api/v1/accounts/verify_credentials")
    finally:
        await runner.cleanup()
    assert got == {"id": "1", "acct": "a"}
    assert len(hits) == 2 and hits[1] - hits[0] >= 0.3
    assert [r.fields["detail"]["status"] for r in driver.records] == [429, 200]


async def test_429_beyond_the_retry_budget_gives_up_without_waiting() -> None:
    hits: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(time.monotonic())
        return web.json_response({}, status=429, headers={"Retry-After": "3600"})

    runner, base = await _fake(handler)
    started = time.monotonic()
    try:
        async with httpx.AsyncClient() as client:
            driver = RestDriver(
                client,
                base,
                "tok-a-0123456789",
                "tok-b-0123456789",
                allow_public_posts=False,
                reference_extras=False,
                # Kept above the scaled elapsed bound below at every scale, so a driver that
                # sleeps its budget before giving up still fails this test.
                max_retry_wait_s=scaled(5.0),
            )
            with pytest.raises(StimulusError, match="retry budget") as caught:
                await driver._call("a", "GET", "/api/v1/accounts/verify_credentials")
    finally:
        await runner.cleanup()
    assert time.monotonic() - started < scaled(2.0) and len(hits) == 1
    assert "tok-a" not in str(caught.value)


# -- a served reference server and the CLI as a subprocess ------------------------------------


def _env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": root}


@pytest.fixture
def served() -> Iterator[dict[str, Any]]:
    with reference_server("--heartbeat", "1") as line:
        yield line


def _get(ref: dict[str, Any], path: str, token: str, **params: Any) -> Any:
    response = httpx.get(
        f"{ref['url']}{path}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=scaled(10),
    )
    assert response.status_code == 200, (path, response.status_code)
    return response.json()


def _state(ref: dict[str, Any]) -> dict[str, Any]:
    """Everything a run may create or change, as the served REST API shows it."""
    a, b = ref["accounts"][0], ref["accounts"][1]
    remote = _get(ref, "/api/v1/accounts/lookup", a["token"], acct="carol@remote.example")
    rel = _get(
        ref, "/api/v1/accounts/relationships", a["token"], **{"id[]": [b["id"], remote["id"]]}
    )
    lists = _get(ref, "/api/v1/lists", a["token"])
    return {
        "statuses": [
            _get(ref, f"/api/v1/accounts/{acc['id']}", acc["token"])["statuses_count"]
            for acc in (a, b)
        ],
        "public": [s["id"] for s in _get(ref, "/api/v1/timelines/public", a["token"])],
        "filters": _get(ref, "/api/v2/filters", a["token"]),
        "relations": [
            {k: r.get(k) for k in ("following", "muting", "blocking", "followed_by")} for r in rel
        ],
        "lists": sorted(str(item["id"]) for item in lists),
        "members": {
            str(item["id"]): sorted(
                m["id"] for m in _get(ref, f"/api/v1/lists/{item['id']}/accounts", a["token"])
            )
            for item in lists
        },
    }


def _run_args(ref: dict[str, Any], report: Path, *extra: str) -> list[str]:
    a, b = ref["accounts"][0], ref["accounts"][1]
    return [
        *CLI,
        "run",
        "--target",
        ref["url"],
        f"--token={a['token']}",  # "=": a random token may start with "-"
        f"--second-token={b['token']}",
        "--report-dir",
        str(report),
        *FAST,
        *extra,
    ]


def _no_tokens(ref: dict[str, Any], *texts: str, report: Path | None = None) -> None:
    tokens = [acc["token"] for acc in ref["accounts"]]
    blobs = list(texts)
    if report is not None and report.exists():
        blobs += [p.read_text(errors="replace") for p in report.rglob("*") if p.is_file()]
    for blob in blobs:
        for token in tokens:
            assert token not in blob


@pytest.mark.slow  # over 5 s: a whole session (10-13 s measured at load 7)
def test_ctrl_c_cleans_up_everything_and_leaks_no_token(
    served: dict[str, Any], tmp_path: Path
) -> None:
    before = _state(served)
    report = tmp_path / "report"
    proc = subprocess.Popen(
        _run_args(served, report),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        deadline = time.monotonic() + scaled(40)
        a, b = served["accounts"][0], served["accounts"][1]
        under_way = False
        while time.monotonic() < deadline and proc.poll() is None:
            counts = [
                _get(served, f"/api/v1/accounts/{acc['id']}", acc["token"])["statuses_count"]
                for acc in (a, b)
            ]
            if counts != before["statuses"]:
                under_way = True
                break
            time.sleep(0.05)  # polling another process's progress: no event to wait on
        if not under_way:
            out, err = proc.communicate(timeout=scaled(30))
            pytest.fail(f"the run never created a status (exit {proc.returncode}): {err[-1500:]}")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=scaled(40))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0  # interrupted, not a clean pass
    assert _state(served) == before
    _no_tokens(served, out, err, report=report)


def _verdicts(report: Path) -> dict[str, str]:
    data = json.loads((report / "report.json").read_text())
    return {r["id"]: r["verdict"] for r in data["results"]}


@pytest.mark.slow
def test_served_target_gets_the_embedded_verdicts(served: dict[str, Any], tmp_path: Path) -> None:
    embedded = subprocess.run(
        [*CLI, "run", "--report-dir", str(tmp_path / "embedded"), *FAST],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=scaled(120),
    )
    assert embedded.returncode == 0, embedded.stdout[-2000:]
    before = _state(served)
    target = subprocess.run(
        _run_args(served, tmp_path / "target"),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=scaled(120),
    )
    assert target.returncode == 0, target.stdout[-2000:]
    assert _verdicts(tmp_path / "target") == _verdicts(tmp_path / "embedded")
    assert _state(served) == before  # cleanup left the target as it was
    _no_tokens(served, target.stdout, target.stderr, report=tmp_path / "target")


@pytest.mark.slow
def test_read_only_writes_nothing_and_exits_0(served: dict[str, Any], tmp_path: Path) -> None:
    before = _state(served)
    done = subprocess.run(
        _run_args(served, tmp_path / "ro", "--read-only", "--observe-seconds", "0.5"),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=scaled(120),
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert _state(served) == before
    verdicts = _verdicts(tmp_path / "ro")
    assert verdicts["delivery.read-only.observed[sse-public]"] == "info"
    assert "fail" not in verdicts.values()
    _no_tokens(served, done.stdout, done.stderr, report=tmp_path / "ro")


def test_a_token_starting_with_a_dash_is_forwarded_intact() -> None:
    """Random tokens may start with "-": ``run`` hands flags to pytest as ``--flag=value``."""
    args = settings_to_args({"token": "-abc123", "observe_seconds": 3.0})
    assert args == ["--token=-abc123", "--observe-seconds=3.0"]
    parser = argparse.ArgumentParser()
    add_argparse_options(parser)
    parsed = parser.parse_args(args)
    assert parsed.token == "-abc123" and parsed.observe_seconds == 3.0
