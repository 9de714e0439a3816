"""One judging pipeline: a live run's report directory replays to exactly the live cases and
verdicts, and ``replay`` exits like ``run`` (error -> 2, fail -> 1, warn only under --fail-on)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from timing import scaled

from conformance.judge import planned_results
from conformance.matrix import DeliveryLog, PlannedCase, RunContext
from conformance.matrix.stimulus_log import build_stimulus_log, write_stimulus_log
from conformance.replay import replay_main
from conformance.transcript.captures import load_capture
from conformance.transcript.model import write_transcripts
from conformance.verdicts import Verdict

RUN_TIMEOUT_S = 600


def _command() -> list[str]:
    installed = Path(sys.executable).with_name("mastodon-streaming-conformance")
    if installed.exists():
        return [str(installed)]
    found = shutil.which("mastodon-streaming-conformance")
    return [found] if found else [sys.executable, "-m", "conformance"]


def _verdicts(report: Path) -> dict[str, str]:
    rows = json.loads(report.read_text(encoding="utf-8"))["results"]
    by_id = {r["id"]: r["verdict"] for r in rows}
    assert len(by_id) == len(rows), "a report must not repeat a case id"
    return by_id


@pytest.mark.slow
def test_replaying_a_live_run_gives_the_live_cases_and_verdicts(tmp_path: Path) -> None:
    live_dir = tmp_path / "live"
    proc = subprocess.run(
        [
            *_command(),
            "run",
            "--embedded-heartbeat",
            "1",
            "--heartbeat-timeout",
            "2.5",
            "--report-dir",
            str(live_dir),
        ],
        capture_output=True,
        text=True,
        timeout=scaled(RUN_TIMEOUT_S),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (live_dir / "transcripts" / "_stimuli.jsonl").is_file()
    status = replay_main(live_dir, report_dir=tmp_path / "replayed")
    live = _verdicts(live_dir / "report.json")
    replayed = _verdicts(tmp_path / "replayed" / "report.json")
    assert len(live) > 900
    assert sorted(set(live) - set(replayed)) == []
    assert sorted(set(replayed) - set(live)) == []
    assert {rid: (v, replayed[rid]) for rid, v in live.items() if replayed[rid] != v} == {}
    assert status == proc.returncode


def _saved_run(tmp_path: Path, captures_dir: Path, context: RunContext) -> Path:
    """A report directory: one conformant capture as a connection, plus a stimulus log."""
    capture = load_capture(captures_dir / "sse-01-user.jsonl")
    write_transcripts(tmp_path / "transcripts" / "sse-user.jsonl", [capture])
    write_stimulus_log(tmp_path, build_stimulus_log(DeliveryLog(), [], context=context))
    return tmp_path


def _plan(captures_dir: Path) -> tuple[str, tuple[PlannedCase, ...]]:
    capture = load_capture(captures_dir / "sse-01-user.jsonl")
    cases = tuple(
        PlannedCase(p.id, p.requirement, "x", capture.meta.transport, "user", p.event)
        for p in planned_results(capture.meta)
    )
    assert cases
    return capture.meta.id, cases


def test_replay_of_a_given_up_setup_is_error_and_exits_2(
    tmp_path: Path, captures_dir: Path
) -> None:
    key, cases = _plan(captures_dir)
    context = RunContext(plan=cases, setup_failures={key: "gave up after 3 attempts: 429"})
    run = _saved_run(tmp_path / "run", captures_dir, context)
    assert replay_main(run, report_dir=tmp_path / "out") == 2
    rows = json.loads((tmp_path / "out" / "report.json").read_text())["results"]
    planned = [r for r in rows if r["id"] in {c.id for c in cases}]
    assert planned and {r["verdict"] for r in planned} == {Verdict.ERROR.value}


def test_replay_reports_every_planned_case_once(tmp_path: Path, captures_dir: Path) -> None:
    _key, cases = _plan(captures_dir)
    ghost = PlannedCase("http.ghost[sse-nowhere]", "http.sse.status-200", "http", "sse", None, None)
    context = RunContext(
        plan=(*cases, ghost), unjudged={ghost.id: "sse-nowhere not opened: needs --long"}
    )
    run = _saved_run(tmp_path / "run", captures_dir, context)
    assert replay_main(run, report_dir=tmp_path / "out") == 0
    verdicts = _verdicts(tmp_path / "out" / "report.json")
    assert verdicts[ghost.id] == Verdict.NOT_EXERCISED.value
    assert all(c.id in verdicts for c in cases)
