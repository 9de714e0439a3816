"""``--repeat N``: N sessions folded into one report; differing verdicts are flagged flaky.

The stand-in session (tests/support/session_standin.py) returns a different verdict table per
session run, which is exactly what a flaky server looks like from the harness.
"""

from __future__ import annotations

import json

import pytest
from session_standin import BLANK, HEALTH, HEARTBEAT, StandIn, report, rows, run_suite, verdicts

from conformance.repeat import merge_results, worst
from conformance.verdicts import Level, Result, Verdict

pytest_plugins = ["pytester"]


def _result(rid: str, verdict: Verdict) -> Result:
    return Result(id=rid, requirement=rid, verdict=verdict, level=Level.MUST, message="m")


def test_worst_prefers_a_real_failure_over_a_harness_error() -> None:
    pair = [_result("a", Verdict.ERROR), _result("a", Verdict.FAIL)]
    assert worst(pair).verdict is Verdict.FAIL
    assert worst([_result("a", Verdict.PASS), _result("a", Verdict.WARN)]).verdict is Verdict.WARN
    assert worst([_result("a", Verdict.PASS), _result("a", Verdict.ERROR)]).verdict is Verdict.ERROR


def test_merge_keeps_worst_verdict_and_history() -> None:
    runs = [
        {"a": _result("a", Verdict.PASS), "b": _result("b", Verdict.PASS)},
        {"a": _result("a", Verdict.FAIL), "b": _result("b", Verdict.PASS)},
        {"a": _result("a", Verdict.PASS), "b": _result("b", Verdict.PASS)},
    ]
    merged = merge_results(runs, [[_result("x", Verdict.INFO)], []])
    assert merged.results["a"].verdict is Verdict.FAIL
    assert merged.results["a"].message.startswith("flaky (pass, fail, pass): ")
    assert merged.results["b"].message == "m"
    assert merged.flaky == {"a": ["pass", "fail", "pass"]}
    assert [r.id for r in merged.extra_results] == ["x"]  # seen once: not flaky
    assert merged.history["x"] == ["info"]


def test_alternating_verdicts_are_flagged_flaky_and_fail_the_run(
    pytester: pytest.Pytester,
) -> None:
    standin = StandIn([verdicts(), verdicts(blank="fail", heartbeat="warn")])
    result = run_suite(pytester, standin, "--repeat", "3")
    assert standin.session_runs == 3
    assert result.ret == 1  # a flaky fail counts as a fail
    by_id = rows(pytester)
    assert by_id[BLANK]["verdict"] == "fail"
    assert by_id[BLANK]["flaky"] is True
    assert by_id[BLANK]["verdicts"] == ["pass", "fail", "pass"]
    assert by_id[HEARTBEAT]["verdicts"] == ["pass", "warn", "pass"]
    assert by_id[HEALTH]["flaky"] is False
    assert by_id[HEALTH]["verdicts"] == ["pass", "pass", "pass"]
    data = report(pytester)
    assert data["repeat"] == {"runs": 3, "flaky": [BLANK, HEARTBEAT]}
    out = result.stdout.str()
    assert "FLAKY (2)" in out
    assert f"{BLANK}: pass, fail, pass -> fail" in out
    for number in (1, 2, 3):  # each session's own report, replayable on its own
        own = json.loads(
            (pytester.path / "out" / "repeats" / str(number) / "report.json").read_text()
        )
        assert own["repeat"] == number
        verdict = {r["id"]: r["verdict"] for r in own["results"]}[BLANK]
        assert verdict == ("fail" if number == 2 else "pass")


def test_stable_repeats_are_not_flaky(pytester: pytest.Pytester) -> None:
    standin = StandIn(verdicts(heartbeat="warn"))
    result = run_suite(pytester, standin, "--repeat", "2")
    assert standin.session_runs == 2
    assert result.ret == 0
    assert report(pytester)["repeat"] == {"runs": 2, "flaky": []}
    assert "FLAKY" not in result.stdout.str()


def test_a_crashed_repeat_counts_as_error_for_every_case(pytester: pytest.Pytester) -> None:
    standin = StandIn(verdicts(), crash_on=frozenset({1}))
    result = run_suite(pytester, standin, "--repeat", "2")
    assert result.ret == 2
    by_id = rows(pytester)
    assert by_id[HEALTH]["verdicts"] == ["pass", "error"]
    assert by_id[HEALTH]["verdict"] == "error" and by_id[HEALTH]["flaky"] is True
    assert "recorder exploded" in report(pytester)["session_error"]


@pytest.mark.slow
def test_without_repeat_the_report_has_no_repeat_keys(pytester: pytest.Pytester) -> None:
    run_suite(pytester, StandIn(verdicts()))
    data = report(pytester)
    assert "repeat" not in data
    assert all("flaky" not in row and "baseline" not in row for row in data["results"])
    assert not (pytester.path / "out" / "repeats").exists()


@pytest.mark.parametrize("value", ["0", "-1", "two", "101"])
def test_bad_repeat_values_are_usage_errors(pytester: pytest.Pytester, value: str) -> None:
    result = run_suite(pytester, StandIn(verdicts()), "--repeat", value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
