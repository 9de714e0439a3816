"""Exact selection live: ``-k`` and ``--exclude`` prune the stimulus, not only the report.

Each selected run against the embedded reference server makes fewer REST writes than the full
run (counted from the saved stimulus log), keeps the steps its cases depend on, still gives
0 fail / 0 error, and report.json, junit.xml, pytest's count and the exit code agree; the
pruned steps are in the stimulus log and its RunContext with their reason, and ``replay``
judges the selected cases to the same verdicts.
"""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from suite_command import run_embedded
from timing import scaled

from conformance.matrix.pruning import DESELECTED
from conformance.replay import replay_main

pytestmark = pytest.mark.slow

RUN_TIMEOUT_S = scaled(600)
WRITES = ("POST", "PUT", "PATCH", "DELETE")

#: name -> (selection arguments, steps that must run, steps that must not)
SELECTIONS: dict[str, tuple[list[str], set[str], set[str]]] = {
    # multiplexing: P (the unsubscribe follows it) and one later update on public:local
    "k-websocket": (["-k", "websocket"], {"P", "PM"}, {"F", "FO", "FC", "BL", "MU", "TR"}),
    # everything but delivery: payload cases still read every event; FC/BL/MU/TR do not
    "exclude-delivery": (["--exclude", "delivery.*"], {"O", "F", "E", "X"}, {"FC", "BL", "TR"}),
    # a favourite needs O's status; P's absence from public:remote needs its barrier R
    "k-dependencies": (
        ["-k", "favourite or public-status.excluded"],
        {"F", "O", "P", "R"},
        {"RB", "FO", "FC", "AN", "TR", "MU"},
    ),
}


def _run(report_dir: Path, *selection: str) -> subprocess.CompletedProcess[str]:
    return run_embedded(report_dir, *selection, timeout_s=RUN_TIMEOUT_S)


def _stimuli(report_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The stimulus log's saved ``stimulus_log`` context and its records."""
    lines = (report_dir / "transcripts" / "_stimuli.jsonl").read_text(encoding="utf-8")
    records = [json.loads(line) for line in lines.splitlines() if line.strip()]
    return records[0]["context"]["stimulus_log"], records[1:]


def _writes(records: list[dict[str, Any]]) -> int:
    return sum(1 for r in records if r.get("action") == "rest" and r["detail"]["method"] in WRITES)


def _steps(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["detail"]["key"]: r["detail"] for r in records if r.get("action") == "step"}


@pytest.fixture(scope="module")
def full_writes(tmp_path_factory: pytest.TempPathFactory) -> int:
    report_dir = tmp_path_factory.mktemp("full") / "report"
    proc = _run(report_dir)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _log, records = _stimuli(report_dir)
    assert all(step["ran"] for step in _steps(records).values())
    return _writes(records)


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_a_selection_prunes_the_stimulus_and_counts_agree(
    name: str, full_writes: int, tmp_path: Path
) -> None:
    selection, must_run, must_not = SELECTIONS[name]
    report_dir = tmp_path / "report"
    proc = _run(report_dir, *selection)
    tail = proc.stdout[-4000:] + proc.stderr[-2000:]
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    summary = report["summary"]
    assert summary["fail"] == 0 and summary["error"] == 0, tail
    assert proc.returncode == 0 == report["exit_status"], tail

    # counts: report.json, its summary, junit.xml and pytest's own line agree
    n = len(report["results"])
    assert n == sum(summary.values()) == report["selection"]["selected"]
    suite = ET.parse(report_dir / "junit.xml").getroot()
    assert int(suite.get("tests", "-1")) == n
    lines = proc.stdout.splitlines()
    final = next(x for x in reversed(lines) if " passed" in x)  # "9 passed, 2 skipped, ..."
    counted = dict(
        (kind, int(k)) for k, kind in re.findall(r"(\d+) (\w+)", final) if kind != "deselected"
    )
    assert sum(counted.values()) == n, final
    assert counted.get("skipped", 0) == summary["not_exercised"], final  # pytest's skip

    # the stimulus: fewer writes, dependencies kept, the rest pruned with a reason
    log, records = _stimuli(report_dir)
    steps = _steps(records)
    writes = _writes(records)
    print(f"{name}: {writes} REST writes (full run: {full_writes}), {n} cases")
    assert writes < full_writes
    ran = {key for key, step in steps.items() if step["ran"]}
    assert must_run <= ran, sorted(ran)
    assert not must_not & ran, sorted(ran)
    pruned = log["run"]["pruned"]
    assert set(pruned) >= must_not
    for key in must_not:
        assert steps[key]["reason"] == pruned[key] == DESELECTED

    # replay judges the selected cases from the saved run to the same verdicts
    replay_main(report_dir, report_dir=tmp_path / "replayed")
    replayed = json.loads((tmp_path / "replayed" / "report.json").read_text(encoding="utf-8"))
    again = {r["id"]: r["verdict"] for r in replayed["results"]}
    live = {r["id"]: r["verdict"] for r in report["results"]}
    assert {rid: (v, again.get(rid)) for rid, v in live.items() if again.get(rid) != v} == {}
