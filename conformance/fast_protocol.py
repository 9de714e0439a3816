"""A lean pytest run-test protocol for the suite's cases (``mastodon-streaming-conformance run``).

Why: a run is ~1000 pytest items whose verdicts the live session has already judged, so a case
body is a dictionary lookup. pytest's general protocol costs ~1.5 ms of CPU per item around
that lookup (setup/teardown hooks, the fixture graph walked again for every item, session
fixtures re-validated, three report hooks): ~1.5 s per run, more than the session's own CPU.
This plugin runs a suite case (an item whose only fixtures are the suite's own) itself:

* setup: ``plugin.judge_case`` (the ``judged_case`` fixture's body: the first case runs the live
  session; an aborted run exits 2, an unexpected ``error`` is a setup error);
* call: the case function with its ``JudgedCase``; its outcome goes through
  ``pytest_runtest_makereport`` when it raised (skip, xfail, fail keep pytest's meaning);
* teardown: nothing to tear down.

Each phase still produces its ``TestReport`` through ``pytest_runtest_logreport``, with
``pytest_runtest_logstart``/``logfinish`` around them, so the terminal, ``-x``, junitxml and the
warnings summary see exactly what the general protocol gives. Items are still 1:1 with cases.
One exception, where nobody can tell: a *passed* setup or teardown report is not made when the
only ``pytest_runtest_logreport`` implementations are pytest's terminal reporter and session
(both ignore such a report: no letter, no count) and ``--durations`` is off (it lists setup
times). Any other listener (``--junitxml``, a user's plugin) gets every report, as before; that
saves two of three reports per case (~0.1 s a run).
Any other item (a fixture the suite does not define, e.g. a user plugin's autouse fixture)
falls through to pytest's own protocol.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest import CallInfo

from conformance.plugin import judge_case, suite_run
from conformance.verdicts import Verdict

__all__ = ["pytest_runtest_protocol", "pytest_runtestloop"]

# The fixtures a suite case may reach (``judged_case`` and its dependencies).
SUITE_FIXTURES = frozenset(
    {"judged_case", "planned_case", "msc_run", "msc_outcome", "msc_target", "pytestconfig"}
)
_ARGNAMES = ("judged_case",)


def _lean(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", None)
    callspec = getattr(item, "callspec", None)
    return (
        names is not None
        and callspec is not None
        and "planned_case" in callspec.params
        and getattr(item, "_fixtureinfo", None) is not None
        and tuple(item._fixtureinfo.argnames) == _ARGNAMES  # type: ignore[attr-defined]
        and set(names) <= SUITE_FIXTURES | {"request"}
        and getattr(getattr(item.session, "_setupstate", None), "stack", None) == {}
        # ^ nothing of the general protocol is set up (and pytest still has that internal)
    )


def _reraised(config: pytest.Config) -> tuple[type[BaseException], ...]:
    """What must escape a phase, as in pytest's protocol: ``pytest.exit``, and Ctrl-C unless
    ``--pdb`` is on."""
    if config.getoption("usepdb", False):
        return (pytest.exit.Exception,)
    return (pytest.exit.Exception, KeyboardInterrupt)


def _passed(item: pytest.Item, call: CallInfo[Any], keywords: dict[str, Any]) -> pytest.TestReport:
    return pytest.TestReport(
        item.nodeid,
        item.location,
        keywords,
        "passed",
        None,
        call.when,  # type: ignore[arg-type]
        duration=call.duration,
        start=call.start,
        stop=call.stop,
    )


def _report(
    item: pytest.Item, call: CallInfo[Any], keywords: dict[str, Any], ihook: Any
) -> pytest.TestReport:
    if call.excinfo is None:
        report = _passed(item, call, keywords)
    else:
        report = ihook.pytest_runtest_makereport(item=item, call=call)
    ihook.pytest_runtest_logreport(report=report)
    return report


#: The ``pytest_runtest_logreport`` implementations that ignore a passed setup/teardown report.
_IGNORING_PASSED_PHASES = frozenset({"terminalreporter", "session"})
_QUIET = pytest.StashKey[bool]()


def _quiet_phases(config: pytest.Config) -> bool:
    """Whether a passed setup/teardown report would be seen by nobody (module docstring)."""
    quiet = config.stash.get(_QUIET, None)
    if quiet is None:
        listeners = config.hook.pytest_runtest_logreport.get_hookimpls()
        quiet = not config.getoption("durations", None) and all(
            impl.plugin_name in _IGNORING_PASSED_PHASES for impl in listeners
        )
        config.stash[_QUIET] = quiet
    return quiet


_PLACES = pytest.StashKey[dict[Any, tuple[str, int | None]]]()


def _locate(item: pytest.Item) -> None:
    """Fill ``item.location`` (a cached property) from the first case of the same function.

    Why: pytest computes it per item from the function's source file and line (~0.2 ms each),
    and every case of a module shares that file and line; only the test name differs.
    """
    if "location" in item.__dict__:
        return
    places = item.config.stash.setdefault(_PLACES, {})
    function = item.obj  # type: ignore[attr-defined]
    place = places.get(function)
    if place is None:
        path, line, _ = item.location
        places[function] = (path, line)
    else:
        item.__dict__["location"] = (*place, item.getmodpath())  # type: ignore[attr-defined]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    if not _lean(item):
        return None
    _run_lean(item)
    return True


def _run_lean(item: pytest.Item) -> None:
    _locate(item)
    ihook = item.ihook  # one hook-proxy lookup per item, not one per phase
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    keywords = dict.fromkeys(item.keywords, 1)
    reraise = _reraised(item.config)
    case = item.callspec.params["planned_case"]  # type: ignore[attr-defined]
    run = suite_run(item.config)
    quiet = _quiet_phases(item.config)
    setup = CallInfo.from_call(lambda: judge_case(run, case), when="setup", reraise=reraise)
    if (quiet and setup.excinfo is None) or _report(item, setup, keywords, ihook).passed:
        function = item.obj  # type: ignore[attr-defined]
        judged = setup.result
        call = CallInfo.from_call(
            lambda: function(judged_case=judged), when="call", reraise=reraise
        )
        _report(item, call, keywords, ihook)
    if not quiet:  # the teardown does nothing: it always passes
        teardown = CallInfo.from_call(lambda: None, when="teardown", reraise=reraise)
        _report(item, teardown, keywords, ihook)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)


#: The ``pytest_runtest_protocol`` implementations a settled case may go around: pytest's own
#: runner (this plugin answers first), assertion's wrapper (hooks for ``assert`` comparisons:
#: a case body has no ``assert``) and warnings' wrapper (nothing warns but a ``warn`` verdict,
#: which still goes through it).
_AROUND = frozenset({"runner", "assertion", "warnings", __name__})


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """pytest's run-test loop, except that a case whose verdict is already judged (every case
    after the first: that one runs the live session) and is not ``warn`` runs the lean protocol
    directly instead of through the ``pytest_runtest_protocol`` hook chain.

    Why: the chain's two wrappers (warnings, assertion) cost ~40 us per item around a case body
    that is a dictionary lookup, ~0.05 s a run, and neither has anything to do for such a case.
    With any other ``pytest_runtest_protocol`` implementation registered (a user's plugin),
    after collection errors or with ``--collect-only``, pytest's own loop runs unchanged."""
    config = session.config
    hook = config.hook.pytest_runtest_protocol
    if (
        (session.testsfailed and not config.option.continue_on_collection_errors)
        or config.option.collectonly
        or any(impl.plugin_name not in _AROUND for impl in hook.get_hookimpls())
    ):
        return None
    run = suite_run(config)
    items = session.items
    for index, item in enumerate(items):
        if _settled(run, item):
            _run_lean(item)
        else:
            nextitem = items[index + 1] if index + 1 < len(items) else None
            hook(item=item, nextitem=nextitem)
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
        if session.shouldstop:
            raise session.Interrupted(session.shouldstop)
    return True


def _settled(run: Any, item: pytest.Item) -> bool:
    """A lean case whose judged verdict is known and is not ``warn`` (a warning pytest's
    warnings wrapper must see)."""
    if not _lean(item):
        return False
    result = run.settled(item.callspec.params["planned_case"])  # type: ignore[attr-defined]
    return result is not None and result.verdict is not Verdict.WARN
