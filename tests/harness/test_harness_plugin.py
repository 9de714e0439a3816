"""The pytest plugin end to end with a stand-in session: outcomes, node ids, reports, exit status.

The stand-in replaces ``plan_cases``/``run_session``/``discover`` through ``suite_run(config)``,
so these runs exercise the real plugin, case modules and report writers without a network.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from session_standin import TOKEN, StandIn, make_case, run_suite

from conformance.plugin import CASES_DIR, suite_run
from conformance.verdicts import Verdict

pytest_plugins = ["pytester"]

PLAN = [
    make_case("http.health.status-ok[http-health]", "http"),
    make_case("sse.framing.blank-line[sse-user]", "sse"),
    make_case("sse.heartbeat.interval[sse-user]", "sse"),
    make_case("delivery.update.arrives[sse-hashtag:local-update]", "delivery"),
    make_case("ws.handshake.accepts[ws-user]", "ws"),
    make_case("weird.thing[sse-user]", "weird"),
]

VERDICTS = {
    "http.health.status-ok[http-health]": Verdict.PASS,
    "sse.framing.blank-line[sse-user]": Verdict.FAIL,
    "sse.heartbeat.interval[sse-user]": Verdict.WARN,
    "delivery.update.arrives[sse-hashtag:local-update]": Verdict.NOT_EXERCISED,
    "ws.handshake.accepts[ws-user]": Verdict.ERROR,
    "weird.thing[sse-user]": Verdict.PASS,
}


def _standin(verdicts: dict[str, Verdict], *, crash: bool = False) -> StandIn:
    """The shared stand-in with this file's plan, and a careless message naming the token."""
    return StandIn(
        verdicts,
        plan=PLAN,
        crash_on=frozenset({0}) if crash else frozenset(),
        message="expected x, observed y (token {token})",
        evidence="raw: bytes",
    )


@pytest.mark.slow
def test_verdicts_become_pytest_outcomes_and_reports(pytester: pytest.Pytester) -> None:
    standin = _standin(VERDICTS)
    result = run_suite(pytester, standin)
    result.assert_outcomes(passed=4, failed=1, skipped=1, errors=1, warnings=1)
    assert result.ret == 1
    assert standin.session_runs == 1
    out = result.stdout.str()
    assert TOKEN not in out
    assert "test_sse_framing.py::test_sse_framing[sse.framing.blank-line[sse-user]]" in out
    assert "test_other.py::test_other[weird.thing[sse-user]]" in out
    assert "not_exercised: expected x, observed y" in out
    assert "summary: 2 pass, 1 fail, 1 warn, 1 info, 1 not_exercised, 1 error" in out

    report = json.loads((pytester.path / "out" / "report.json").read_text())
    assert report["summary"] == {
        "pass": 2,
        "fail": 1,
        "warn": 1,
        "info": 1,
        "not_exercised": 1,
        "error": 1,
    }
    assert report["target"] == "http://fake.example"
    assert report["settings"]["token"] == "<redacted>"
    assert (pytester.path / "out" / "junit.xml").is_file()
    assert TOKEN not in (pytester.path / "out" / "report.json").read_text()


@pytest.mark.slow
def test_strict_fails_on_warnings(pytester: pytest.Pytester) -> None:
    verdicts = dict.fromkeys(VERDICTS, Verdict.PASS)
    verdicts["sse.heartbeat.interval[sse-user]"] = Verdict.WARN
    assert run_suite(pytester, _standin(verdicts)).ret == 0
    result = run_suite(pytester, _standin(verdicts), "--strict")
    result.assert_outcomes(passed=6, failed=1)
    assert result.ret == 1


@pytest.mark.slow
def test_only_errors_exit_with_status_2(pytester: pytest.Pytester) -> None:
    verdicts = dict.fromkeys(VERDICTS, Verdict.PASS)
    verdicts["ws.handshake.accepts[ws-user]"] = Verdict.ERROR
    result = run_suite(pytester, _standin(verdicts))
    result.assert_outcomes(passed=6, errors=1)
    assert result.ret == 2


@pytest.mark.slow
def test_a_crashed_session_is_an_error_for_every_case(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, _standin(VERDICTS, crash=True))
    result.assert_outcomes(errors=len(PLAN) + 1)
    assert result.ret == 2
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    assert report["summary"]["error"] == len(PLAN) + 1
    assert "recorder exploded" in report["session_error"]


@pytest.mark.slow
def test_k_selects_by_transport_stream_and_requirement(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, _standin(VERDICTS), "-k", "hashtag:local or http.health")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == 0
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    ids = {row["id"] for row in report["results"]}
    # One pytest item is one reported case: the unplanned EXTRA folds into observed[run],
    # which -k did not select (conformance/observations.py).
    assert ids == {
        "http.health.status-ok[http-health]",
        "delivery.update.arrives[sse-hashtag:local-update]",
    }


def test_unreachable_target_exits_2_with_a_message(
    pytester: pytest.Pytester, unused_tcp_port: int
) -> None:
    standin = _standin(VERDICTS)
    result = pytester.runpytest_inprocess(
        str(CASES_DIR),
        "-p",
        "no:cacheprovider",
        "--report-dir",
        "out",
        "--target",
        f"http://127.0.0.1:{unused_tcp_port}",
        plugins=[_RealDiscovery(standin)],
    )
    assert result.ret == 2
    assert "is unreachable" in result.stdout.str()
    assert standin.session_runs == 0


class _RealDiscovery:
    def __init__(self, standin: StandIn) -> None:
        self.standin = standin

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        run = suite_run(config)
        run.plan_cases_fn = self.standin.plan
        run.run_session_fn = self.standin.run_session


def test_bad_option_in_a_suite_run_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(
        str(CASES_DIR), "-p", "no:cacheprovider", "--observe-seconds", "never"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_plugin_is_inert_for_ordinary_test_runs(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_plain="def test_ok():\n    assert True\n")
    standin = _standin(VERDICTS)
    result = pytester.runpytest_inprocess(
        "-p", "conformance.plugin", "-p", "no:cacheprovider", plugins=[standin]
    )
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    assert standin.session_runs == 0
    assert not (pytester.path / "reports").exists()
