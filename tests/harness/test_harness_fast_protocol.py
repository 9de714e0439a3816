"""``conformance.fast_protocol`` (the lean per-case protocol of ``run``) gives exactly the pytest
outcomes, exit status and reports of pytest's general protocol, and really replaces it."""

from __future__ import annotations

import json
import re

import pytest
from session_standin import TOKEN, StandIn, make_case, run_suite

from conformance.plugin import CASES_DIR
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


def _run(
    pytester: pytest.Pytester,
    *args: str,
    crash: bool = False,
    verdicts: dict[str, Verdict] = VERDICTS,
) -> tuple[object, int]:
    standin = _CountingStandIn(
        verdicts, plan=PLAN, crash_on=frozenset({0}) if crash else frozenset(), evidence="raw"
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


class _Listener:
    """A user's plugin listening to every phase report (so none may be left out)."""

    def __init__(self) -> None:
        self.phases: list[tuple[str, str, str]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.phases.append((report.nodeid, report.when or "", report.outcome))


def _lines(result: object) -> list[str]:
    """The terminal output without its timing (the last line says how long the run took)."""
    lines = result.stdout.lines  # type: ignore[attr-defined]
    return [line for line in lines if " in " not in line or "==" not in line]


#: Every verdict but ``error`` (whose setup-error traceback shows each protocol's own frames).
NO_ERROR = {**VERDICTS, "ws.handshake.accepts[ws-user]": Verdict.PASS}


def _run_no_error(pytester: pytest.Pytester, *args: str) -> object:
    return _run(pytester, *args, verdicts=NO_ERROR)[0]


def test_left_out_phase_reports_change_nothing_visible(pytester: pytest.Pytester) -> None:
    """Passed setup/teardown reports are made only for a listener that can see them: the
    terminal output is the general protocol's; a plugin listening gets all three phases."""
    general = _run_no_error(pytester)
    fast = _run_no_error(pytester, *FAST)
    assert _lines(fast) == _lines(general)

    heard = []
    for protocol in ((), FAST):
        listener = _Listener()
        standin = _CountingStandIn(VERDICTS, plan=PLAN, evidence="raw")
        pytester.runpytest_inprocess(
            str(CASES_DIR),
            *("-p", "no:cacheprovider", "--disable-plugin-autoload", *protocol),
            *("--target", "http://fake.example", "--token", TOKEN, "--report-dir", "out"),
            plugins=[standin, listener],
        )
        heard.append(listener.phases)
    assert heard[1] == heard[0]
    assert {when for _, when, _ in heard[1]} == {"setup", "call", "teardown"}


def test_durations_still_list_the_setup(pytester: pytest.Pytester) -> None:
    """``--durations`` lists setup times (the first case's setup is the live session)."""
    durations = ("--durations=0", "--durations-min=0")
    listed = [
        [line.split()[2] for line in r.stdout.lines if re.match(r"\d+\.\d+s setup ", line)]  # type: ignore[attr-defined]
        for r in (_run_no_error(pytester, *FAST, *durations), _run_no_error(pytester, *durations))
    ]
    assert sorted(listed[0]) == sorted(listed[1])  # listed slowest first: ties in any order
    assert len(listed[0]) == len(PLAN) + 1  # every case's setup, observed[run] included


class _ProtocolCounter:
    """Counts what reaches pytest's ``pytest_runtest_protocol`` hook chain, by the warnings
    plugin's per-item wrapper (patched) and, optionally, as a user plugin implementing it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import _pytest.warnings as pytest_warnings

        self.through_chain: list[str] = []
        real = pytest_warnings.catch_warnings_for_item

        def counting(config, ihook, when, item, **kwargs):  # type: ignore[no-untyped-def]
            if when == "runtest" and item is not None:
                self.through_chain.append(item.nodeid)
            return real(config, ihook, when, item, **kwargs)

        monkeypatch.setattr(pytest_warnings, "catch_warnings_for_item", counting)


class _UserProtocolPlugin:
    """A user's plugin with its own (pass-through) ``pytest_runtest_protocol``."""

    def pytest_runtest_protocol(self, item: pytest.Item) -> None:
        return None


@pytest.mark.parametrize("user_plugin", [False, True], ids=["suite-only", "user-plugin"])
def test_settled_cases_go_around_the_hook_chain(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, user_plugin: bool
) -> None:
    """The first case (it runs the session) and a ``warn`` go through pytest's hook chain;
    every other settled case runs the lean protocol directly. With a user's own protocol
    implementation registered, every case goes through the chain, as pytest's loop does.
    Outcomes are the general protocol's either way."""
    counter = _ProtocolCounter(monkeypatch)
    standin = _CountingStandIn(VERDICTS, plan=PLAN, evidence="raw")
    extra = [_UserProtocolPlugin()] if user_plugin else []
    result = pytester.runpytest_inprocess(
        str(CASES_DIR),
        *("-p", "no:cacheprovider", "--disable-plugin-autoload", *FAST),
        *("-p", "no:faulthandler", "-p", "no:unittest"),  # as ``run`` (cli.LEAN_PYTEST)
        *("--target", "http://fake.example", "--token", TOKEN, "--report-dir", "out"),
        plugins=[standin, *extra],
    )
    general, _ = _run(pytester)
    assert result.parseoutcomes() == general.parseoutcomes()  # type: ignore[attr-defined]
    items = len(PLAN) + 1
    if user_plugin:
        assert len(counter.through_chain) == 2 * items  # the general run's and this one's
        return
    through = counter.through_chain[: len(counter.through_chain) - items]  # this run's share
    assert len(through) == 2
    assert "sse.heartbeat.interval[sse-user]" in through[1]  # the warn
    assert "ConformanceWarning: sse.heartbeat.interval[sse-user] [SHOULD]" in result.stdout.str()
