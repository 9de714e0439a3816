"""The CLI's other commands: ``serve`` execs the reference server, ``list``/``replay`` dispatch."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from timing import scaled

from conformance import cli
from conformance.embedded import reference_env


def test_serve_runs_the_reference_server_until_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance", "serve", "--port", "0", "--heartbeat", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=reference_env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the server prints its JSON line at once
        info = json.loads(line)
        assert info["url"].startswith("http://127.0.0.1:")
        assert len(info["accounts"]) == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=scaled(15)) is not None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=scaled(5))


def test_list_json_prints_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {"id", "level"} <= rows[0].keys()


def test_replay_dispatches_and_unreadable_path_is_not_success(tmp_path: Path) -> None:
    status = cli.main(["replay", str(tmp_path / "missing"), "--report-dir", str(tmp_path / "r")])
    assert status == 2
    assert not (tmp_path / "r" / "report.json").exists()


def test_arguments_after_double_dash_only_apply_to_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "--", "-x"]) == 2
    assert "only apply to run" in capsys.readouterr().err
