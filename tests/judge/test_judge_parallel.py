"""``judge/parallel.judge_split``: the forked half gives the same answers, in the same order,
as judging everything in-process; a child that fails costs time, never a Result."""

from __future__ import annotations

import os

import pytest

from conformance.judge import parallel


def _square(n: int) -> tuple[int, int, int]:
    return (n, n * n, os.getpid())


def test_split_gives_the_serial_answer_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    if not parallel._enabled(parallel.MIN_TRANSCRIPTS):
        pytest.skip("needs Linux and two usable CPUs")
    tasks = list(range(40))
    got = parallel.judge_split(tasks, [float(n % 7 + 1) for n in tasks], _square)
    assert [(n, sq) for n, sq, _ in got] == [(n, n * n) for n in tasks]
    pids = {pid for _, _, pid in got}
    assert os.getpid() in pids and len(pids) == 2, "one share was judged by the child"


def test_a_failing_child_share_is_judged_here(monkeypatch: pytest.MonkeyPatch) -> None:
    if not parallel._enabled(parallel.MIN_TRANSCRIPTS):
        pytest.skip("needs Linux and two usable CPUs")
    parent = os.getpid()

    def judge(n: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("the child breaks")
        return n + 1

    tasks = list(range(30))
    assert parallel.judge_split(tasks, [1.0] * len(tasks), judge) == [n + 1 for n in tasks]


def test_small_or_disabled_runs_stay_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    few = list(range(parallel.MIN_TRANSCRIPTS - 1))
    assert {pid for *_, pid in parallel.judge_split(few, [1.0] * len(few), _square)} == {
        os.getpid()
    }
    monkeypatch.setenv("MSC_JUDGE_PROCESSES", "1")
    many = list(range(40))
    assert {pid for *_, pid in parallel.judge_split(many, [1.0] * 40, _square)} == {os.getpid()}


def test_halves_balance_the_weights() -> None:
    first, second = parallel._halves([10.0, 1.0, 1.0, 5.0, 5.0])
    assert 0 in first and sorted(first + second) == [0, 1, 2, 3, 4]
    assert abs(sum([10, 1, 1, 5, 5][i] for i in first) - 11) <= 1
