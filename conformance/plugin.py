"""The pytest plugin: options, session fixtures, case parametrisation, reports, exit status.

Thin wiring over ``conformance.run.SuiteRun``. It is loaded for every pytest run in a checkout
(the top-level conftest) and by ``mastodon-streaming-conformance run`` (``-p``), so it does
nothing costly until a suite case (a test in ``conformance/cases`` asking for ``judged_case``)
is collected: then the plan is computed, and on the first case the whole live session runs once.

Case modules hold one test function each; ``conformance.cases.AREAS`` says which planned cases
each module runs, and ``test_other.py`` takes whatever no module claims, so no planned case is
ever silently dropped.

``--exclude`` deselects matching cases at collection (pytest counts them as deselected; they are
never looked up, never reported as results, and listed under ``excluded`` in report.json). A
result the ``--baseline`` expects becomes a pytest ``xfail`` naming the baseline's reason.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance import __version__
from conformance.baseline import BaselineEntry, BaselineError
from conformance.config import (
    SettingsError,
    add_pytest_options,
    cli_values_from_pytest,
    describe_settings,
)
from conformance.errors import RunAborted, SuiteError
from conformance.run import SuiteRun
from conformance.verdicts import Result, Verdict

if TYPE_CHECKING:
    from conformance.session import PlannedCase

GROUP_NAME = "mastodon-streaming-conformance"
CASES_DIR = Path(__file__).resolve().parent / "cases"
_RUN = pytest.StashKey[SuiteRun]()


class ConformanceWarning(UserWarning):
    """A SHOULD-level requirement the target does not meet (a failure under ``--strict``)."""


@dataclass(frozen=True)
class JudgedCase:
    """What a suite case receives: its plan entry, its judged Result, and the strictness
    (``strict``: a warn fails, ``--fail-on warn``); ``expected`` is the baseline entry that
    expects this result, if any."""

    case: PlannedCase
    result: Result
    strict: bool
    expected: BaselineEntry | None = None

    def enforce(self) -> None:
        """Turn the verdict into a pytest outcome (an unexpected ``error`` was raised by the
        fixture)."""
        result = self.result
        if result.verdict in (Verdict.PASS, Verdict.INFO):
            return
        if result.verdict is Verdict.NOT_EXERCISED:
            pytest.skip(f"not_exercised: {result.message}")
        if self.expected is not None:
            issue = f" ({self.expected.issue})" if self.expected.issue else ""
            reason = self.expected.reason or "no reason given"
            pytest.xfail(f"{result.verdict.value}, expected by the baseline: {reason}{issue}")
        detail = result.message
        if result.evidence:
            detail += f"\nevidence: {result.evidence}"
        if result.transcript:
            detail += f"\ntranscript: {result.transcript}"
        if result.verdict is Verdict.WARN and not self.strict:
            warnings.warn(
                ConformanceWarning(f"{result.id} [{result.level}]: {detail}"), stacklevel=2
            )
            return
        pytest.fail(f"{result.verdict.value} [{result.level}]: {detail}", pytrace=False)


# -- options and configuration ------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(GROUP_NAME, "Mastodon streaming conformance suite (env MSC_*)")
    add_pytest_options(group)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(id): the requirement id a suite case enforces")
    run = SuiteRun(
        cli_values_from_pytest(config.getoption), invocation_dir=config.invocation_params.dir
    )
    config.stash[_RUN] = run
    if _targets_suite(config):
        _settings_or_usage_error(run)


def suite_run(config: pytest.Config) -> SuiteRun:
    """This pytest session's run state (tests inject stand-in session functions through it)."""
    return config.stash[_RUN]


def _targets_suite(config: pytest.Config) -> bool:
    """Whether the command line points at the suite cases (for the header and early checks)."""
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::", 1)[0]).resolve()
        if path == CASES_DIR or CASES_DIR in path.parents or path in CASES_DIR.parents:
            return True
    return False


def _settings_or_usage_error(run: SuiteRun) -> Any:
    try:
        settings = run.settings
        run.baseline()  # a bad --baseline file is a usage error before anything runs
    except (SettingsError, BaselineError) as exc:
        raise pytest.UsageError(f"mastodon-streaming-conformance: {exc}") from None
    return settings


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    if not _targets_suite(config):
        return None
    settings = _settings_or_usage_error(config.stash[_RUN])
    lines = [f"{GROUP_NAME} {__version__}: " + " ".join(describe_settings(settings))]
    if settings.anonymous:
        from conformance.preflight import ANONYMOUS_UNCHECKED

        lines.append(
            "token-less audit (--anonymous); NOT checked: " + "; ".join(ANONYMOUS_UNCHECKED)
        )
    return lines


# -- collection -----------------------------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "planned_case" not in metafunc.fixturenames:
        return
    from conformance.cases import AREAS, CATCH_ALL, module_for

    stem = metafunc.module.__name__.rsplit(".", 1)[-1]
    if stem not in AREAS and stem != CATCH_ALL:
        return
    run: SuiteRun = metafunc.config.stash[_RUN]
    _settings_or_usage_error(run)
    cases = [c for c in run.plan() if module_for(c.requirement, c.group) == stem]
    marks: dict[str, Any] = {}  # one mark per requirement, shared by its cases
    for case in cases:
        if case.requirement not in marks:
            marks[case.requirement] = [pytest.mark.requirement(case.requirement)]
    metafunc.parametrize(
        "planned_case", [pytest.param(c, id=c.id, marks=marks[c.requirement]) for c in cases]
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the placeholder item pytest makes for a case module with no planned case, and
    deselect the cases ``--exclude`` names; then remember the selection.

    It runs last, after pytest's own ``-k``/``-m``/``--deselect``: the items left are exactly
    the cases this run reports, and the session prunes every connection and stimulus that no
    selected case needs (``SuiteRun.session_settings``). One pytest item is one case."""
    empty = [
        item
        for item in items
        if "planned_case" in getattr(item, "fixturenames", ())
        and not hasattr(_planned(item), "requirement")
    ]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [item for item in items if item not in empty]
    run: SuiteRun | None = config.stash.get(_RUN, None)
    if run is None or not any(hasattr(_planned(item), "requirement") for item in items):
        return
    excluded = [
        item
        for item in items
        if hasattr(_planned(item), "requirement")
        and run.is_excluded(_planned(item).id, _planned(item).requirement)
    ]
    if excluded:
        config.hook.pytest_deselected(items=excluded)
        items[:] = [item for item in items if item not in excluded]
    order = [_planned(item).id for item in items if hasattr(_planned(item), "requirement")]
    run.selected = frozenset(order)
    run.case_order = order


def _planned(item: pytest.Item) -> Any:
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get("planned_case")


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def msc_run(pytestconfig: pytest.Config) -> SuiteRun:
    return pytestconfig.stash[_RUN]


@pytest.fixture(scope="session")
def msc_settings(msc_run: SuiteRun) -> Any:
    return _settings_or_usage_error(msc_run)


@pytest.fixture(scope="session")
def msc_target(msc_run: SuiteRun) -> Any:
    """The discovered target (starting the embedded server first when there is no target)."""
    return target_or_exit(msc_run)


def target_or_exit(run: SuiteRun) -> Any:
    """``run.target()``, or end the pytest session with exit status 2 if the run aborted."""
    try:
        return run.target()
    except RunAborted as exc:
        pytest.exit(f"mastodon-streaming-conformance: {exc}", returncode=2)


@pytest.fixture(scope="session")
def msc_outcome(pytestconfig: pytest.Config, msc_run: SuiteRun, msc_target: Any) -> Any:
    """The live session's outcome, run once for the whole pytest session (None if it crashed).

    Output capture is off meanwhile, so the live progress line reaches the terminal."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    try:
        if capture is None:
            return msc_run.outcome()
        with capture.global_and_fixture_disabled():
            return msc_run.outcome()
    except RunAborted as exc:
        pytest.exit(f"mastodon-streaming-conformance: {exc}", returncode=2)


@pytest.fixture
def judged_case(planned_case: PlannedCase, msc_run: SuiteRun, msc_outcome: Any) -> JudgedCase:
    return judge_case(msc_run, planned_case)


def judge_case(run: SuiteRun, planned_case: PlannedCase) -> JudgedCase:
    """What the ``judged_case`` fixture gives (also called by ``conformance.fast_protocol``)."""
    target_or_exit(run)
    run.outcome()
    result = run.result_for(planned_case)
    expected = run.expected_entry(result)
    if result.verdict is Verdict.ERROR and expected is None:
        raise SuiteError(f"{result.id}: {result.message}")
    return JudgedCase(case=planned_case, result=result, strict=run.warn_fails, expected=expected)


# -- end of session -------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run: SuiteRun | None = session.config.stash.get(_RUN, None)
    if run is None:
        return
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    try:
        report = run.finish(interrupted=interrupted)
    except OSError as exc:  # the report directory went away or filled up during the run
        session.config.stash[_REPORT] = [f"could not write the reports: {exc}"]
        session.exitstatus = 2
        session.config.stash[_STATUS] = 2
        return
    finally:
        run.close()
    if report is None:
        return
    session.config.stash[_REPORT] = report.lines
    if interrupted:
        session.config.stash[_STATUS] = report.status  # 2, as report.json says
    elif exitstatus not in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        session.exitstatus = report.status
        session.config.stash[_STATUS] = report.status


_REPORT = pytest.StashKey[list[str]]()
_STATUS = pytest.StashKey[int]()


def reported_status(config: pytest.Config) -> int | None:
    """The suite's own exit status of a run that reported (pytest's 3 means an internal error,
    ours a stale baseline: the CLI reads this to tell them apart)."""
    return config.stash.get(_STATUS, None)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = terminalreporter.config.stash.get(_REPORT, None)
    if not lines:
        return
    terminalreporter.section(GROUP_NAME)
    for line in lines:
        terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(_RUN, None)
    if run is not None:
        run.close()
