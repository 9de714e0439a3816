"""``load`` against the embedded reference server: every event reaches every subscriber, the
sampled transcripts pass the judges, and the drop/delay knobs show up as lost or late deliveries
from the ramp step where they begin (slow: each run spawns worker processes and a server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from timing import scaled

from conformance.cli import main

pytestmark = pytest.mark.slow


def seconds(value: float) -> float:
    """Deadlines scale with MSC_TEST_TIME_SCALE (tests/support/timing.py) on a shared machine."""
    return scaled(value)


def _load(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code = main(
        [
            "load",
            "--rate",
            "4",
            "--duration",
            "2",
            "--workers",
            "2",
            "--embedded-heartbeat",
            "1",
            "--sample-every",
            "10",
            "--setup-timeout",
            f"{seconds(30):g}",
            "--drain",
            f"{seconds(5):g}",
            "--deadline",
            f"{seconds(240):g}",
            "--report-dir",
            str(tmp_path),
            *args,
        ]
    )
    report = json.loads((tmp_path / "load.json").read_text()) if code in (0, 1) else {}
    return code, report


def test_every_subscriber_gets_every_event_and_samples_stay_conformant(tmp_path: Path) -> None:
    # 3 s, not 2: a subscriber's keep-alives are measured only when it stayed open longer than
    # the keep-alive timeout (2 x the 1 s heartbeat); a 2 s step on an idle machine sat right at
    # that edge and measured none (seen once in CI). Later options override _load's defaults.
    code, report = _load(tmp_path, "--subscribers", "30", "--transport", "mix", "--duration", "3")
    assert code == 0, report
    (step,) = report["steps"]
    assert step["subscribers"] == 30 and step["sampled_subscribers"] == 3
    assert step["measured_subscribers"] == 27 and step["connections"]["refused"] == 0
    delivery = step["delivery"]
    assert delivery["expected"] == 27 * step["stimuli"]["produced"] > 0
    assert (delivery["lost"], delivery["duplicated"], delivery["out_of_order"]) == (0, 0, 0)
    assert step["by_transport"]["sse"]["delivered"] > 0 < step["by_transport"]["ws"]["delivered"]
    assert step["latency_ms"]["count"] == delivery["delivered"]
    assert step["keepalive"]["sse"]["measured"] > 0 and step["keepalive"]["ws"]["measured"] > 0
    assert step["sample"]["verdicts"].get("pass", 0) > 0
    assert step["sample"]["failure_count"] == 0, step["sample"]["failures"]
    assert (tmp_path / "load.html").is_file() and (tmp_path / "load-summary.md").is_file()
    assert list((tmp_path / "transcripts").glob("*.jsonl"))
    text = (tmp_path / "load.json").read_text() + (tmp_path / "load.html").read_text()
    assert "Bearer" not in text


def test_drop_fault_is_reported_as_loss_from_the_step_where_it_begins(tmp_path: Path) -> None:
    code, report = _load(tmp_path, "--ramp", "8:16:40", "--fault", "drop-above:16:5")
    assert code == 0
    first, second = report["steps"][:2]
    assert first["delivery"]["lost"] == 0 and not first["breaks"]
    assert second["delivery"]["lost"] > 0 and second["breaks"][0].startswith("loss")
    assert report["capacity"]["sustained_subscribers"] == 8
    assert report["capacity"]["first_break_step"] == 1
    assert len(report["steps"]) == 2  # the ramp stops at the first broken step


def test_delay_fault_is_reported_as_late_deliveries(tmp_path: Path) -> None:
    code, report = _load(
        tmp_path,
        "--ramp",
        "8:16:24",
        "--fault",
        "delay-above:16:1500",
        "--max-p99-ms",
        "1000",
        "--transport",
        "sse",
    )
    assert code == 0
    first, second = report["steps"]
    assert first["latency_ms"]["p99_ms"] < 1000 and not first["breaks"]
    assert second["latency_ms"]["p50_ms"] >= 1500
    assert second["delivery"]["lost"] == 0
    assert any(b.startswith("p99") for b in second["breaks"])
    assert report["capacity"]["first_break_step"] == 1


@pytest.mark.redis
def test_redis_stimulus_reaches_every_subscriber(tmp_path: Path, redis_url: str) -> None:
    code, report = _load(
        tmp_path, "--subscribers", "12", "--stimulus", "redis", "--redis-url", redis_url
    )
    assert code == 0, report
    assert report["stimulus"]["driver"] == "redis"
    (step,) = report["steps"]
    assert step["delivery"]["lost"] == 0 and step["delivery"]["delivered"] > 0
