"""``parallel.split_work`` (judging, report writing): the forked half gives the same answers,
in the same order, as doing everything in-process; a failing child costs time, never a result."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conformance import parallel


def _square(n: int) -> tuple[int, int, int]:
    return (n, n * n, os.getpid())


def test_split_gives_the_serial_answer_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    if not parallel.enabled():
        pytest.skip("needs Linux and two usable CPUs")
    tasks = list(range(40))
    got = parallel.split_work(tasks, [float(n % 7 + 1) for n in tasks], _square)
    assert [(n, sq) for n, sq, _ in got] == [(n, n * n) for n in tasks]
    pids = {pid for _, _, pid in got}
    assert os.getpid() in pids and len(pids) == 2, "one share was judged by the child"


def test_a_failing_child_share_is_judged_here(monkeypatch: pytest.MonkeyPatch) -> None:
    if not parallel.enabled():
        pytest.skip("needs Linux and two usable CPUs")
    parent = os.getpid()

    def judge(n: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("the child breaks")
        return n + 1

    tasks = list(range(30))
    assert parallel.split_work(tasks, [1.0] * len(tasks), judge) == [n + 1 for n in tasks]


def test_small_or_disabled_runs_stay_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    few = list(range(15))
    here = {os.getpid()}
    assert {pid for *_, pid in parallel.split_work(few, [1.0] * 15, _square, min_tasks=16)} == here
    monkeypatch.setenv("MSC_NO_FORK", "1")
    many = list(range(40))
    assert {pid for *_, pid in parallel.split_work(many, [1.0] * 40, _square)} == {os.getpid()}


def test_a_share_sets_how_much_stays_here() -> None:
    weights = [float(n % 5 + 1) for n in range(60)]
    for share in (0.2, 0.35, 0.5, 0.7):
        first, second = parallel._halves(weights, share)
        assert sorted(first + second) == list(range(60))
        assert abs(sum(weights[i] for i in first) / sum(weights) - share) < 0.03
    tasks = list(range(40))
    if parallel.enabled():
        got = parallel.split_work(tasks, [1.0] * 40, _square, share=0.25)
        assert [(n, sq) for n, sq, _ in got] == [(n, n * n) for n in tasks]
        assert sum(1 for *_, pid in got if pid == os.getpid()) == 10


def test_halves_balance_the_weights() -> None:
    first, second = parallel._halves([10.0, 1.0, 1.0, 5.0, 5.0])
    assert 0 in first and sorted(first + second) == [0, 1, 2, 3, 4]
    assert abs(sum([10, 1, 1, 5, 5][i] for i in first) - 11) <= 1


def test_reports_written_on_two_cores_are_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.reports.run_reports import FORKED_REPORTS_FROM, write_run_reports
    from conformance.verdicts import Level, Result, Verdict

    verdicts = [Verdict.PASS, Verdict.FAIL, Verdict.INFO, Verdict.NOT_EXERCISED, Verdict.WARN]
    results = [
        Result(
            id=f"req.r{n}[sse-user]",
            requirement=f"req.r{n}",
            verdict=verdicts[n % len(verdicts)],
            level=Level.MUST,
            message=f"case {n}",
            transport="sse",
        )
        for n in range(FORKED_REPORTS_FROM + 10)
    ]

    def write(where: Path) -> dict[str, bytes]:
        paths = write_run_reports(
            where,
            target="http://127.0.0.1:1",
            started_at="2026-01-01T00:00:00Z",
            duration_s=1.0,
            results=results,
        )
        assert set(paths) == {"json", "junit", "transcripts", "html", "summary"}
        return {str(p.relative_to(where)): p.read_bytes() for p in where.rglob("*") if p.is_file()}

    forked = write(tmp_path / "forked")
    monkeypatch.setenv("MSC_NO_FORK", "1")
    assert write(tmp_path / "serial") == forked
