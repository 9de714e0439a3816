"""The same scenario on Locust: a master and two workers on loopback, against the embedded
reference server, merged on the master into one report (slow: three Locust processes)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from timing import scaled

from conformance.embedded import embedded_server

pytestmark = pytest.mark.slow

LOCUSTFILE = Path(__file__).resolve().parents[2] / "conformance" / "load" / "locustfile.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _locust() -> list[str]:
    exe = Path(sys.executable).with_name("locust")
    if exe.exists():
        return [str(exe)]
    if shutil.which("locust"):
        return ["locust"]
    pytest.skip("locust is not installed (pip install '.[load]')")
    raise AssertionError  # unreachable


def test_master_and_two_workers_merge_into_one_report(tmp_path: Path) -> None:
    locust = _locust()
    out = tmp_path / "report"
    with embedded_server(heartbeat_s=1, ping_interval_s=1) as server:
        env = dict(
            os.environ,
            MSC_TOKEN=server.accounts[0].token,
            MSC_SECOND_TOKEN=server.accounts[1].token,
        )
        port = _free_port()
        common = [
            "-f", str(LOCUSTFILE), "--loglevel", "WARNING",
            "--msc-target", server.url, "--msc-rate", "4", "--msc-duration", "3",
            "--msc-keepalive-timeout", "2.5", "--msc-report-dir", str(out),
            "--msc-setup-timeout", f"{scaled(30):g}",
        ]  # fmt: skip
        master = subprocess.Popen(
            [*locust, *common, "--master", "--headless", "-u", "20", "-r", "20",
             "--expect-workers", "2", "--run-time", f"{int(scaled(120))}s",
             "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        workers = [
            subprocess.Popen(
                [
                    *locust,
                    *common,
                    "--worker",
                    "--master-host",
                    "127.0.0.1",
                    "--master-port",
                    str(port),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        try:
            _, err = master.communicate(timeout=scaled(180))
        finally:
            for process in [master, *workers]:
                try:
                    process.wait(timeout=scaled(30))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=scaled(10))
    assert master.returncode == 0, err.decode(errors="replace")[-2000:]
    report = json.loads((out / "load.json").read_text())
    assert report["locust"] == {"workers": 2, "parts": 2}
    (step,) = report["steps"]
    assert step["subscribers"] == 20 and step["measured_subscribers"] == 20
    assert (
        step["by_transport"]["sse"]["subscribers"]
        == 10
        == step["by_transport"]["ws"]["subscribers"]
    )
    delivery = step["delivery"]
    assert delivery["expected"] == 20 * step["stimuli"]["produced"] > 0
    assert delivery["lost"] == 0 and delivery["ratio"] == 1.0
    assert step["latency_ms"]["count"] == delivery["delivered"]
    assert step["client"]["processes"] == 3  # two workers + stimulus
    assert step["keepalive"]["sse"]["measured"] == 10 and step["keepalive"]["sse"]["missed"] == 0
    assert (out / "load.html").is_file() and (out / "load-summary.md").is_file()
