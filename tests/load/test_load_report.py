"""Parts merge exactly; the report matches its schema; the HTML page is self-contained."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conformance.load.config import LoadConfig
from conformance.load.cores import Sink, Tally
from conformance.load.report import build_report, build_step, capacity, judge_step, write_reports
from conformance.load.stats import merge_parts, summarize
from conformance.load.stimulus import Produced

RUN = "0badcafe"
TIMEOUTS = {"sse": 2.0, "ws": 2.0}


def _tally(i: int, sink: Sink, seen: set[int]) -> Tally:
    t = Tally(transport="sse" if i % 2 else "ws", stream="public", started=100.0)
    t.on_head(200 if i % 2 else 101, 100.01 + i / 1000, 200 if i % 2 else 101)
    for seq in sorted(seen):
        t.seen.add(seq)
        sink.delivered(int(101e6) + seq * 1000, 101.0 + seq / 100 + i / 1000)
    t.on_keepalive(101.0 + i / 10)
    if i % 4 == 0:
        t.on_closed("server sent a close frame", 103.5)
    return t


def _part(indices: range, sink: Sink) -> dict:
    tallies = [_tally(i, sink, {0, 1, 2} if i % 3 else {0, 2}) for i in indices]
    part = summarize(
        tallies, sink, [0, 1, 2], now=104.0, keepalive_timeout_s=TIMEOUTS, cpu_s=0.5, wall_s=2.0
    )
    part["sample"] = {"transcripts": 1, "verdicts": {"pass": 3}, "failures": [], "failure_count": 0}
    return part


def test_merging_two_halves_equals_one_process_holding_everything() -> None:
    whole = _part(range(10), Sink(run_id=RUN))
    halves = merge_parts([_part(range(5), Sink(run_id=RUN)), _part(range(5, 10), Sink(run_id=RUN))])
    for key in ("subscribers", "connected", "expected", "delivered", "lost", "latency", "setup"):
        assert halves[key] == whole[key], key
    assert halves["timeline"] == whole["timeline"]
    assert halves["by_transport"] == whole["by_transport"]
    assert halves["closures"] == whole["closures"] == {"ws: server sent a close frame": 3}
    assert halves["closed_early"] == 3
    assert halves["keepalive"]["sse"]["missed"] == whole["keepalive"]["sse"]["missed"] > 0
    assert whole["lost"] == 4  # subscribers 0, 3, 6, 9 missed seq 1


def _step(index: int, n: int, lost_every: int = 0) -> dict:
    sink = Sink(run_id=RUN)
    tallies = [_tally(i, sink, {0, 1, 2}) for i in range(n)]
    if lost_every:
        for t in tallies[::lost_every]:
            t.seen.discard(1)
    part = summarize(
        tallies, sink, [0, 1, 2], now=104.0, keepalive_timeout_s=TIMEOUTS, cpu_s=0.2, wall_s=2.0
    )
    part["sample"] = {"transcripts": 0, "verdicts": {}, "failures": [], "failure_count": 0}
    merged = merge_parts([part])
    produced = [Produced(s, int(101e6) + s * 1000, 0.01) for s in range(3)]
    config = LoadConfig(max_loss=0.01, max_p99_ms=5000)
    step = build_step(index, n, merged, produced, config=config, timings={"stimulus_s": 2.0})
    judge_step(step, config)
    return step


def _report(steps: list[dict]) -> dict:
    return build_report(
        steps,
        meta={
            "run_id": RUN,
            "started_at": "2026-12-03T15:00:00+00:00",
            "duration_s": 12.0,
            "target": {
                "url": "http://127.0.0.1:1",
                "streaming_url": "http://127.0.0.1:1",
                "embedded": True,
            },
            "machine": {"cores": 2, "loadavg_start": [1.0, 1.0, 1.0]},
            "stimulus": {"driver": "rest", "failures": []},
        },
        config={"transport": "mix", "streams": ["public"], "rate": 2.0, "duration_s": 1.5},
    )


def test_capacity_is_the_last_sustained_step_and_the_break_is_located() -> None:
    steps = [_step(0, 10), _step(1, 20), _step(2, 30, lost_every=2)]
    cap = capacity(steps)
    assert cap["sustained_subscribers"] == 20 and cap["first_break_step"] == 2
    assert cap["first_break_reasons"][0].startswith("loss")
    assert steps[2]["delivery"]["lost"] == 15


def test_report_validates_and_renders(tmp_path: Path) -> None:
    report = _report([_step(0, 10), _step(1, 20, lost_every=3)])
    paths = write_reports(report, tmp_path)
    assert json.loads(paths["json"].read_text()) == report
    page = paths["html"].read_text()
    assert page.count("<svg") == 5  # five charts, inline
    assert "<script" not in page and " src=" not in page  # self-contained, no script
    summary = paths["markdown"].read_text()
    assert "| 1 | 20 |" in summary and "Thresholds first broken at step 1" in summary


def test_schema_rejects_a_report_without_delivery_figures(tmp_path: Path) -> None:
    report = _report([_step(0, 10)])
    del report["steps"][0]["delivery"]["lost"]
    with pytest.raises(jsonschema.ValidationError):
        write_reports(report, tmp_path)
