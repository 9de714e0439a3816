"""Reports written in the background while pytest reports the cases (``reports/prewrite.py``):
taken only when they are exactly what ``finish`` would write, else ``finish`` writes them itself;
either way the files are the same as a run that never prewrites."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from session_standin import StandIn, run_suite, verdicts

from conformance import parallel
from conformance import run as run_module
from conformance.reports.prewrite import Prewrite

pytest_plugins = ["pytester"]

needs_fork = pytest.mark.skipif(not parallel.enabled(), reason="needs Linux and two usable CPUs")


def _counting_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times ``finish`` wrote the reports in this process."""
    calls: list[int] = []
    real = run_module.write_run_reports

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(os.getpid())
        return real(*args, **kwargs)

    monkeypatch.setattr(run_module, "write_run_reports", counted)
    return calls


def _report(path: Path) -> dict[str, Any]:
    data = json.loads((path / "report.json").read_text(encoding="utf-8"))
    for clock in ("duration_s", "started_at"):  # the clock: all that may differ
        data.pop(clock, None)
    return data


def _files(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}


@needs_fork
def test_prewritten_reports_are_taken_and_match_a_run_without(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = _counting_writes(monkeypatch)
    result = run_suite(pytester, StandIn(verdicts(blank="fail", heartbeat="warn")))
    assert result.ret == 1
    assert writes == [], "finish took the background child's reports"
    prewritten, files = _report(pytester.path / "out"), _files(pytester.path / "out")
    summary = (pytester.path / "out" / "summary.md").read_text(encoding="utf-8")

    monkeypatch.setenv("MSC_NO_FORK", "1")  # no child: finish writes everything itself
    result = run_suite(pytester, StandIn(verdicts(blank="fail", heartbeat="warn")))
    assert result.ret == 1
    assert len(writes) == 1
    assert _report(pytester.path / "out") == prewritten
    assert _files(pytester.path / "out") == files
    assert (pytester.path / "out" / "summary.md").read_text(encoding="utf-8") == summary


@needs_fork
def test_a_run_stopped_early_writes_only_what_ran(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-x`` stops at the first failure: the prewrite (every case) is dropped and finish writes
    the cases that ran."""
    writes = _counting_writes(monkeypatch)
    result = run_suite(pytester, StandIn(verdicts(health="fail")), "-x")
    assert result.ret == 1
    assert writes == [os.getpid()]
    ids = [row["id"] for row in _report(pytester.path / "out")["results"]]
    assert "http.health.status-ok[http-health]" in ids
    assert "ws.handshake.accepts[ws-user]" not in ids, "a case after the failure is reported"


def _write(path: Path, text: str, duration_s: float = 0.0) -> dict[str, Path]:
    path.write_text(text, encoding="utf-8")
    return {"file": path}


@needs_fork
def test_take_only_the_same_arguments(tmp_path: Path) -> None:
    prewrite = Prewrite()
    target = tmp_path / "a.txt"
    assert prewrite.start(_write, {"path": target, "text": "x", "duration_s": 1.0})
    # the clock may differ; the rest must not
    assert prewrite.take({"path": target, "text": "x", "duration_s": 9.0}) == {"file": target}
    assert target.read_text(encoding="utf-8") == "x"

    assert prewrite.start(_write, {"path": tmp_path / "b.txt", "text": "x"})
    assert prewrite.take({"path": tmp_path / "b.txt", "text": "other"}) is None
    assert prewrite.take({"path": tmp_path / "b.txt", "text": "x"}) is None  # taken once


def _broken(path: Path) -> dict[str, Path]:
    raise OSError(f"cannot write {path}")


@needs_fork
def test_a_failed_child_means_write_it_yourself(tmp_path: Path) -> None:
    prewrite = Prewrite()
    assert prewrite.start(_broken, {"path": tmp_path})
    assert prewrite.take({"path": tmp_path}) is None


def test_nothing_starts_without_fork(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MSC_NO_FORK", "1")
    prewrite = Prewrite()
    assert not prewrite.start(_write, {"path": tmp_path / "c.txt", "text": "x"})
    assert prewrite.take({"path": tmp_path / "c.txt", "text": "x"}) is None
    assert not (tmp_path / "c.txt").exists()
