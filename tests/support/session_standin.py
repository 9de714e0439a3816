"""A stand-in live session for harness tests: canned verdicts, no network.

Swaps ``plan_cases``/``run_session``/``discover`` through ``suite_run(config)`` (the injection
``tests/harness/test_harness_plugin.py`` uses), so a pytester run exercises the real plugin, case
modules, baseline, repeat and report code. ``verdicts`` may be one mapping (every repeat alike)
or a list of mappings, one per session run (cycled), to fake a flaky server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance.discovery import TargetInfo
from conformance.plugin import CASES_DIR, suite_run
from conformance.verdicts import Level, Result, Verdict

TOKEN = "tok-standin-never-printed-42"


@dataclass(frozen=True)
class Case:
    id: str
    requirement: str
    group: str
    transport: str | None = "sse"
    stream: str | None = "user"
    event: str | None = None
    needs: frozenset[str] = frozenset()


@dataclass
class Outcome:
    results: dict[str, Result]
    extra_results: list[Result] = field(default_factory=list)
    transcripts: list[Any] = field(default_factory=list)
    started_at: str = "2026-01-01T00:00:00Z"
    duration_s: float = 0.5
    stimuli: Any = None  # SessionOutcome.stimuli: no stimulus log in the stand-in
    unjudged: dict[str, str] = field(default_factory=dict)  # SessionOutcome.unjudged


def make_case(cid: str, group: str) -> Case:
    return Case(id=cid, requirement=cid.split("[", 1)[0], group=group)


HEALTH = "http.health.status-ok[http-health]"
BLANK = "sse.framing.blank-line[sse-user]"
BLANK_PUBLIC = "sse.framing.blank-line[sse-public]"
HEARTBEAT = "sse.heartbeat.interval[sse-user]"
DELIVERY = "delivery.update.arrives[sse-hashtag:local-update]"
HANDSHAKE = "ws.handshake.accepts[ws-user]"
EXTRA = "events.unknown[sse-user]"

PLAN = [
    make_case(HEALTH, "http"),
    make_case(BLANK, "sse"),
    make_case(BLANK_PUBLIC, "sse"),
    make_case(HEARTBEAT, "sse"),
    make_case(DELIVERY, "delivery"),
    make_case(HANDSHAKE, "ws"),
]

ALL_PASS: dict[str, Verdict] = {c.id: Verdict.PASS for c in PLAN}


def verdicts(**changes: str) -> dict[str, Verdict]:
    """ALL_PASS with some cases changed: ``verdicts(blank="fail")`` (constant names, lower-case)."""
    out = dict(ALL_PASS)
    for name, verdict in changes.items():
        out[globals()[name.upper()]] = Verdict(verdict)
    return out


class StandIn:
    """A pytest plugin object that swaps the session functions for canned ones."""

    def __init__(
        self,
        verdicts: Mapping[str, Verdict] | Sequence[Mapping[str, Verdict]],
        *,
        crash_on: frozenset[int] = frozenset(),
        plan: Sequence[Case] = PLAN,
        message: str = "expected x, observed y in run {run}",
        evidence: str | None = None,
    ) -> None:
        """``message`` may name ``{run}`` (1-based) and ``{token}`` (the run's ``--token``, so a
        test can prove the reports redact what a careless judge wrote)."""
        self.per_run = [verdicts] if isinstance(verdicts, Mapping) else list(verdicts)
        self.crash_on = crash_on
        self.cases = list(plan)
        self.message = message
        self.evidence = evidence
        self.session_runs = 0
        self.settings: Any = None
        #: set to a message to make the stand-in preflight refuse the setup (exit 2)
        self.preflight_problem: str | None = None
        self.preflights = 0

    def plan(self, settings: Any) -> list[Case]:
        return list(self.cases)

    async def run_session(self, settings: Any, target: TargetInfo) -> Outcome:
        index = self.session_runs
        self.session_runs += 1
        self.settings = settings
        if index in self.crash_on:
            raise RuntimeError("recorder exploded")
        table = self.per_run[index % len(self.per_run)]
        results = {
            c.id: Result(
                id=c.id,
                requirement=c.requirement,
                verdict=table[c.id],
                level=Level.SHOULD if table[c.id] is Verdict.WARN else Level.MUST,
                message=self.message.format(run=index + 1, token=settings.token),
                evidence=self.evidence,
                transport=c.transport,
                stream=c.stream,
            )
            for c in self.cases
        }
        extra = [
            Result(
                id=EXTRA,
                requirement="events.unknown",
                verdict=Verdict.INFO,
                level=Level.INFO,
                message="saw event 'x'",
            )
        ]
        return Outcome(results=results, extra_results=extra)

    async def discover(self, settings: Any, *, embedded: bool = False) -> TargetInfo:
        return TargetInfo(
            base_url=settings.target,
            streaming_base=settings.target,
            version="4.8.0",
            is_public_host=False,
            embedded=embedded,
        )

    async def preflight(self, settings: Any, target: TargetInfo, **kwargs: Any) -> None:
        """No network: the real report-directory check, then the canned problem, if any."""
        from conformance.preflight import PreflightError, check_report_dir

        self.preflights += 1
        if kwargs.get("report_dir") is not None:
            check_report_dir(kwargs["report_dir"])
        if self.preflight_problem is not None:
            raise PreflightError(self.preflight_problem)

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        run = suite_run(config)
        run.plan_cases_fn = self.plan
        run.run_session_fn = self.run_session
        run.discover_fn = self.discover
        run.preflight_fn = self.preflight
        run.connection_keys_fn = lambda settings: ()  # one folded case: observed[run]


def run_suite(pytester: pytest.Pytester, standin: StandIn, *args: str) -> pytest.RunResult:
    """The suite cases through pytester with the stand-in; reports go to ``out/``."""
    return pytester.runpytest_inprocess(
        str(CASES_DIR),
        "-p",
        "no:cacheprovider",
        "--target",
        "http://fake.example",
        "--token",
        TOKEN,
        "--report-dir",
        "out",
        "-rA",
        *args,
        plugins=[standin],
    )


def report(pytester: pytest.Pytester) -> dict[str, Any]:
    return json.loads((pytester.path / "out" / "report.json").read_text(encoding="utf-8"))


def rows(pytester: pytest.Pytester) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in report(pytester)["results"]}


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
