"""``conformance.fast_protocol`` (the lean per-case protocol of ``run``) gives exactly the pytest
outcomes, exit status and reports of pytest's general protocol, and really replaces it."""

from __future__ import annotations

import json

import pytest
from session_standin import StandIn, make_case, run_suite

from conformance.verdicts import Verdict

pytest_plugins = ["pytester"]

PLAN = [
    make_case("http.health.status-ok[http-health]", "http"),
    make_case("sse.framing.blank-line[sse-user]", "sse"),
    make_case("sse.heartbeat.interval[sse-user]", "sse"),
    make_case("delivery.update.arrives[sse-hashtag:local-update]", "delivery"),
    make_case("ws.handshake.accepts[ws-user]", "ws"),
]
VERDICTS = {
    "http.health.status-ok[http-health]": Verdict.PASS,
    "sse.framing.blank-line[sse-user]": Verdict.FAIL,
    "sse.heartbeat.interval[sse-user]": Verdict.WARN,
    "delivery.update.arrives[sse-hashtag:local-update]": Verdict.NOT_EXERCISED,
    "ws.handshake.accepts[ws-user]": Verdict.ERROR,
}
FAST = ("-p", "conformance.fast_protocol")


class _CountingStandIn(StandIn):
    """The stand-in session, also counting pytest's own setup phase: the lean protocol never
    calls it for a suite case."""

    setups = 0

    def pytest_runtest_setup(self) -> None:
        self.setups += 1


def _run(pytester: pytest.Pytester, *args: str, crash: bool = False) -> tuple[object, int]:
    standin = _CountingStandIn(
        VERDICTS, plan=PLAN, crash_on=frozenset({0}) if crash else frozenset(), evidence="raw"
    )
    # As ``run`` does: no auto-loaded plugin (an autouse fixture of one, e.g. pytest-asyncio's,
    # rightly sends a case back to the general protocol).
    result = run_suite(pytester, standin, "--disable-plugin-autoload", *args)
    return result, standin.setups


@pytest.mark.parametrize("crash", [False, True], ids=["verdicts", "crashed-session"])
def test_same_outcomes_status_and_report_as_the_general_protocol(
    pytester: pytest.Pytester, crash: bool
) -> None:
    general, general_setups = _run(pytester, crash=crash)
    general_report = json.loads((pytester.path / "out" / "report.json").read_text())
    fast, fast_setups = _run(pytester, *FAST, crash=crash)
    fast_report = json.loads((pytester.path / "out" / "report.json").read_text())

    items = len(PLAN) + 1  # the plan plus observed[run] (observations.py)
    assert general_setups == items and fast_setups == 0  # the lean path really ran
    assert fast.ret == general.ret  # type: ignore[attr-defined]
    assert fast.parseoutcomes() == general.parseoutcomes()  # type: ignore[attr-defined]
    for report in (general_report, fast_report):
        del report["started_at"], report["duration_s"]
    assert fast_report == general_report
    out = fast.stdout.str()  # type: ignore[attr-defined]
    assert "test_sse_framing.py::test_sse_framing[sse.framing.blank-line[sse-user]]" in out
    if not crash:  # a warn passes with a ConformanceWarning; an unexpected error is a setup error
        outcomes = fast.parseoutcomes()  # type: ignore[attr-defined]
        # pass, info (observed[run]) and the warn pass; the fail fails; not_exercised skips
        assert (outcomes["passed"], outcomes["failed"], outcomes["skipped"]) == (3, 1, 1)
        assert outcomes["errors"] == 1
        assert "ConformanceWarning: sse.heartbeat.interval[sse-user] [SHOULD]" in out


def test_maxfail_stops_after_the_first_failure(pytester: pytest.Pytester) -> None:
    general, _ = _run(pytester, "-x")
    fast, _ = _run(pytester, *FAST, "-x")
    assert fast.ret == general.ret  # type: ignore[attr-defined]
    assert fast.parseoutcomes() == general.parseoutcomes()  # type: ignore[attr-defined]
