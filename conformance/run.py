"""One live run's state, independent of pytest: settings, plan, target, outcome, reports.

Record-then-judge: the session runs once and the pytest cases look up their judged ``Result``.
``plan()`` at collection (pure; plus one ``observed[<connection>]`` case per connection, see
``observations.py``), ``target()`` (embedded server, discovery, ``preflight``), ``outcome()``
lazily on the first case, ``result_for(case)`` per case, ``finish()`` (reports + exit status),
``close()`` always. A setup problem (unreachable target, preflight, a stimulus that cannot be
set up) raises ``errors.RunAborted``: exit 2, one line, nothing tested; a crash inside the
session turns every case into an ``error`` Result. CI gating: ``--baseline`` (stale entries
exit 3), ``--write-baseline``, ``--exclude`` and ``-k`` (the plugin deselects; ``selected``
prunes the session), ``--fail-on``, ``--repeat N`` (merged by ``conformance.repeat``;
``repeats/<n>/`` holds each session's own report).
"""

from __future__ import annotations

import asyncio
import re
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.bare import discover_target as _discover  # bare mode, else discover
from conformance.baseline import (
    Baseline,
    BaselineEntry,
    BaselineOutcome,
    compare,
    load_baseline,
    skeleton,
    write_baseline,
)
from conformance.config import Settings, resolve_settings
from conformance.discovery import TargetInfo
from conformance.embedded import EmbeddedServer
from conformance.errors import RunAborted, SetupError
from conformance.observations import OBSERVED, by_observed_case, fold, observation_cases
from conformance.preflight import preflight as _preflight
from conformance.redact import Redactor
from conformance.repeat_reports import annotations, merge_repeats, repeat_reports, write_repeats
from conformance.reports.prewrite import Prewrite
from conformance.reports.run_extra import run_extra
from conformance.reports.run_reports import default_report_dir, redact_result, write_run_reports
from conformance.reports.summary import EXIT_ERROR, exit_status, summary_lines
from conformance.requirements import level_of
from conformance.run_embedded import point_at, start_server
from conformance.selection import id_glob, matches_any
from conformance.session.plan.connections import connection_keys
from conformance.verdicts import Result, error_result

if TYPE_CHECKING:
    from conformance.session import PlannedCase, SessionOutcome

__all__ = ["RunAborted", "RunReport", "SuiteRun"]


@dataclass
class RunReport:
    """What ``finish()`` wrote and decided."""

    status: int
    report_dir: Path
    results: list[Result]
    lines: list[str] = field(default_factory=list)
    baseline: BaselineOutcome | None = None
    flaky: dict[str, list[str]] = field(default_factory=dict)


INSECURE_BANNER = (
    "WARNING: --insecure: TLS certificates were not verified on any transport (REST, SSE, "
    "WebSocket); a pass says nothing about the target's TLS setup"
)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class SuiteRun:
    """The state of one live run. Cheap to create; nothing happens until asked."""

    def __init__(
        self,
        cli_values: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        *,
        invocation_dir: Path | None = None,
        plan_cases: Callable[[Settings], Iterable[PlannedCase]] | None = None,
        run_session: Callable[[Settings, TargetInfo], Awaitable[SessionOutcome]] | None = None,
        discover: Callable[..., Awaitable[TargetInfo]] | None = None,
        preflight: Callable[..., Awaitable[Any]] | None = None,
    ) -> None:
        # The session functions are injectable so the harness is testable with stand-ins.
        self.plan_cases_fn = plan_cases
        self.run_session_fn = run_session
        self.discover_fn = discover or _discover
        self.preflight_fn = preflight or _preflight
        self.selected: frozenset[str] | None = None
        #: the selected case ids in pytest's order, once collected: the reports of exactly these
        #: are written in the background as soon as the session has judged (``prewrite``)
        self.case_order: list[str] | None = None
        self.connection_keys_fn: Callable[[Settings], Iterable[str]] = connection_keys
        self._keys: tuple[str, ...] = ()
        self._report_dir: Path | None = None
        self._cli = dict(cli_values or {})
        self._environ = environ
        self._invocation_dir = invocation_dir or Path.cwd()
        self._settings: Settings | None = None
        self._plan: list[PlannedCase] | None = None
        self._effective: Settings | None = None
        self._target: TargetInfo | None = None
        self._server: EmbeddedServer | None = None
        self._redactor: Redactor | None = None
        self._outcome: SessionOutcome | None = None
        self._session_error: str | None = None
        self._aborted: str | None = None
        self._started_at: str | None = None
        self._created = (_now_iso(), time.monotonic())  # duration_s is the run's wall time
        self._baseline: Baseline | None = None
        self._exclude: list[re.Pattern[str]] | None = None
        self._repeats: list[SessionOutcome | None] = []
        self.history: dict[str, list[str]] = {}
        self.recorded: dict[str, Result] = {}
        self._judged: dict[str, Result] = {}  # case id -> its Result, computed once
        self._prewrite = Prewrite()
        self._groups: dict[int, tuple[SessionOutcome, dict[str, list[Result]]]] = {}

    # -- collection time ------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The resolved settings; raises SettingsError for a bad value."""
        if self._settings is None:
            self._settings = resolve_settings(self._cli, self._environ)
        return self._settings

    def plan(self) -> list[PlannedCase]:
        if self._plan is None:
            if self.plan_cases_fn is None:
                from conformance.session import plan_cases

                self.plan_cases_fn = plan_cases
            planned = list(self.plan_cases_fn(self.settings))
            self._keys = tuple(self.connection_keys_fn(self.settings))
            self._plan = planned + observation_cases(self._keys)
        return self._plan

    def baseline(self) -> Baseline | None:
        """The ``--baseline`` file, read once; raises BaselineError (a usage error) if bad."""
        path = self.settings.baseline
        if path is None:
            return None
        if self._baseline is None:
            if not path.is_absolute():
                path = self._invocation_dir / path
            self._baseline = load_baseline(path)
        return self._baseline

    @property
    def warn_fails(self) -> bool:
        """Whether a ``warn`` fails the run (``--fail-on warn`` or ``--strict``)."""
        return self.settings.strict or self.settings.fail_on == "warn"

    @property
    def excluded(self) -> list[str]:
        """Planned case ids ``--exclude`` names (the plugin deselects them)."""
        if not self.settings.exclude or self._plan is None:
            return []
        return sorted(c.id for c in self._plan if self.is_excluded(c.id, c.requirement))

    def is_excluded(self, case_id: str, requirement: str) -> bool:
        if self._exclude is None:
            self._exclude = [id_glob(p) for p in self.settings.exclude]
        return bool(self._exclude) and matches_any(self._exclude, case_id, requirement)

    def expected_entry(self, result: Result) -> BaselineEntry | None:
        """The baseline entry that expects this result (its pytest outcome is then xfail)."""
        baseline = self.baseline()
        return baseline.expected_by(result) if baseline is not None else None

    @property
    def started(self) -> bool:
        return self._started_at is not None

    @property
    def aborted(self) -> str | None:
        return self._aborted

    # -- run time -------------------------------------------------------------------------------

    @property
    def effective_settings(self) -> Settings:
        """Settings as run: for the embedded server, its URLs, tokens and ids filled in."""
        return self._effective or self.settings

    def session_settings(self) -> Settings:
        """Effective settings with the deselected cases in ``exclude`` (``-k`` prunes too)."""
        settings = self.effective_settings
        if self.selected is None or self._plan is None:
            return settings
        dropped = tuple(c.id for c in self._plan if c.id not in self.selected)
        if not dropped:
            return settings
        return replace(settings, exclude=settings.exclude + dropped)

    def target(self) -> TargetInfo:
        """Start the embedded server if needed and discover the target (once)."""
        if self._aborted is not None:
            raise RunAborted(self._aborted)
        if self._target is not None:
            return self._target
        self._mark_started()
        try:
            settings = self.settings
            if settings.target is None and settings.streaming_url is None:  # else: bare mode
                self._server = start_server(settings)
                settings = point_at(settings, self._server)
            if settings.anonymous:  # a token-less audit: no token is used, nothing is caused
                settings = replace(settings, stimulus="none", token=None, second_token=None)
            self._effective = settings
            self._target = asyncio.run(
                self.discover_fn(settings, embedded=self._server is not None)
            )
            self._report_dir = self.report_dir(self._target.base_url)
            asyncio.run(
                self.preflight_fn(
                    settings,
                    self._target,
                    report_dir=self._report_dir,
                    anonymous=settings.anonymous,
                )
            )
        except SetupError as exc:
            self._aborted = str(exc)
            raise RunAborted(self._aborted) from exc
        return self._target

    def outcome(self) -> SessionOutcome | None:
        """Run the session (``--repeat`` times); None if it crashed (every case: ``error``)."""
        if self._outcome is not None or self._session_error is not None:
            return self._outcome
        target = self.target()
        if self.run_session_fn is None:
            from conformance.session import run_session

            self.run_session_fn = run_session
        for _ in range(self.settings.repeat):
            try:
                self._repeats.append(
                    asyncio.run(self.run_session_fn(self.session_settings(), target))
                )
            except SetupError as exc:  # e.g. the stimulus could not be set up: nothing ran
                self._aborted = str(exc)
                raise RunAborted(self._aborted) from exc
            except Exception as exc:
                detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                self._session_error = f"the live session crashed: {detail}"
                self._repeats.append(None)
        done = [o for o in self._repeats if o is not None]
        if len(self._repeats) == 1 or not done:
            self._outcome = done[0] if done else None
        else:
            self._outcome, self.history = merge_repeats(
                self._repeats, self.plan(), self._session_error
            )
        if self.case_order is not None:
            self.prewrite_reports(self.case_order)
        return self._outcome

    def result_for(self, case: PlannedCase) -> Result:
        """The judged Result of one planned case (redacted), recorded for the reports."""
        self.outcome()
        result = self._judged_result(case)
        self.recorded[case.id] = result
        return result

    def _result_of(self, outcome: SessionOutcome | None, case: PlannedCase) -> Result:
        if outcome is None:
            result = error_result(
                case,
                self._session_error or "the live session did not run",
                level=level_of(case.requirement),
            )
        elif case.requirement == OBSERVED:
            result = fold(case, self._observed(outcome, case.id), outcome.unjudged.get(case.id))
        else:
            found = outcome.results.get(case.id)
            result = (
                found
                if found is not None
                else error_result(
                    case,
                    "the live session produced no result for this planned case",
                    level=level_of(case.requirement),
                )
            )
        return redact_result(result, self.redactor())

    def redactor(self) -> Redactor:
        if self._redactor is not None:
            return self._redactor
        secrets = list(self.effective_settings.secrets())
        if self._server is not None:
            secrets.extend(self._server.secrets)
        redactor = Redactor(secrets)
        if self._effective is not None:  # the secrets are final once the target is set
            self._redactor = redactor  # built once, not once per case (~1000 a run)
        return redactor

    # -- end of run -----------------------------------------------------------------------------

    def _observed(self, outcome: SessionOutcome, case_id: str) -> list[Result]:
        """The unplanned Results an ``observed[<key>]`` case folds (not ``--exclude``d)."""
        held = self._groups.get(id(outcome))
        if held is None or held[0] is not outcome:
            kept = (r for r in outcome.extra_results if not self.is_excluded(r.id, r.requirement))
            held = self._groups[id(outcome)] = (outcome, by_observed_case(kept, self._keys))
        return list(held[1].get(case_id, ()))

    def results(self) -> list[Result]:
        """The reported cases: exactly the selected pytest items (one item, one case)."""
        return list(self.recorded.values())

    def observations(self, ids: Iterable[str] | None = None) -> list[Result]:
        """The unplanned Results behind the selected ``observed[...]`` cases, in detail
        (``ids``: the reported case ids, by default the recorded ones)."""
        redactor = self.redactor()
        return [
            redact_result(r, redactor)
            for case_id in sorted(self.recorded if ids is None else ids)
            if case_id.startswith(OBSERVED + "[")
            for r in (self._observed(self._outcome, case_id) if self._outcome else [])
        ]

    @property
    def flaky(self) -> dict[str, list[str]]:
        return self._flaky(self.results())

    def _flaky(self, results: list[Result]) -> dict[str, list[str]]:
        selected = {r.id for r in results}
        return {
            rid: seq for rid, seq in self.history.items() if rid in selected and len(set(seq)) > 1
        }

    def finish(self, *, interrupted: bool = False) -> RunReport | None:
        """Write the reports for the cases that ran; None if no suite case ran.

        An interrupted run (Ctrl-C) still writes what it has, marked ``"interrupted": true``.
        The reports may already have been written meanwhile (``reports/prewrite.py``).
        """
        if not self.started or self._aborted is not None:
            self._prewrite.drop()
            return None
        settings = self.effective_settings
        results = self.results()
        kwargs, status, baseline = self._report_kwargs(results, interrupted)
        if self._prewrite.take(kwargs) is None:
            write_run_reports(**kwargs)
        target, report_dir = kwargs["target"], kwargs["report_dir"]
        if len(self._repeats) > 1:
            self._write_repeats(report_dir, target, kwargs["strict"])
        flaky = self.flaky
        lines = summary_lines(
            results,
            target=target,
            strict=kwargs["strict"],
            baseline=baseline,
            flaky=flaky,
            excluded=len(self.excluded),
            transcripts=kwargs["transcripts"],
        )
        if settings.write_baseline is not None:
            version = self._target.version if self._target is not None else None
            lines.append(self._write_skeleton(results, target, version))
        if not settings.verify_tls:
            lines.insert(0, INSECURE_BANNER)
        lines = self.redactor_lines(lines)
        lines.append(f"reports: {report_dir}")
        return RunReport(status, report_dir, results, lines, baseline, flaky)

    def prewrite_reports(self, case_ids: Iterable[str]) -> bool:
        """Start writing the reports of these cases (the selected items, in order) in the
        background, once the session has run (``reports/prewrite.py``); False if not started."""
        if len(self._repeats) != 1 or self._outcome is None or self._aborted is not None:
            return False
        by_id = {c.id: c for c in self.plan()}
        results = [self._judged_result(by_id[i]) for i in case_ids if i in by_id]
        return self._prewrite.start(write_run_reports, self._report_kwargs(results, False)[0])

    def settled(self, case: PlannedCase) -> Result | None:
        """The case's judged Result once the session has run (a lookup), else None."""
        return self._judged_result(case) if self._outcome is not None else None

    def _judged_result(self, case: PlannedCase) -> Result:
        result = self._judged.get(case.id)
        if result is None:
            result = self._judged[case.id] = self._result_of(self._outcome, case)
        return result

    def _report_kwargs(
        self, results: list[Result], interrupted: bool
    ) -> tuple[dict[str, Any], int, BaselineOutcome | None]:
        """``write_run_reports``' arguments for these reported Results, the exit status and
        the baseline comparison: a function of the run's state and ``results`` only."""
        settings = self.effective_settings
        target = self._target.base_url if self._target else (settings.target or "embedded")
        ids = [r.id for r in results]
        version = self._target.version if self._target is not None else None
        baseline = self._compare_baseline(results, version)
        strict = self.warn_fails
        status = exit_status(results, strict=strict, baseline=baseline)
        if interrupted:
            status = EXIT_ERROR  # an interrupted run is incomplete: never green, never "0"
        extra = run_extra(
            settings,
            self._target,
            embedded=self._server is not None,
            outcome=self._outcome,
            session_error=self._session_error,
            interrupted=interrupted,
            strict=strict,
            status=status,
            excluded=self.excluded if self.settings.exclude else None,
            observed=self.observations(ids),
            selection=(len(self._plan), len(self.selected))
            if self.selected is not None and self._plan is not None
            else None,
            baseline=baseline,
            repeat=(len(self._repeats), sorted(self._flaky(results)))
            if len(self._repeats) > 1
            else None,
        )
        outcome = self._outcome
        kwargs = {
            "report_dir": self._report_dir or self.report_dir(target),
            "target": target,
            "started_at": self._created[0],
            "duration_s": time.monotonic() - self._created[1],
            "results": results,
            "transcripts": outcome.transcripts if outcome is not None else [],
            "redactor": self.redactor(),
            "strict": strict,
            "extra": extra,
            "annotations": annotations(results, baseline, len(self._repeats), self.history),
            "baseline": baseline,
            "stimuli": outcome.stimuli if outcome is not None else None,
        }
        return kwargs, status, baseline

    def report_dir(self, target: str) -> Path:
        """Where this run's reports go (``--report-dir``, else ``reports/<host>-<time>``)."""
        path = self.settings.report_dir or default_report_dir(self._invocation_dir, target)
        return path if path.is_absolute() else self._invocation_dir / path

    def _compare_baseline(
        self, results: list[Result], server_version: str | None
    ) -> BaselineOutcome | None:
        baseline = self.baseline()
        if baseline is None:
            return None
        # Planned cases that did not run by choice (-k, --exclude) leave their entries
        # unresolved.
        ran = {r.id for r in results}
        not_run = [(c.id, c.requirement) for c in (self._plan or []) if c.id not in ran]
        return compare(baseline, results, not_run=not_run, server_version=server_version)

    def _write_skeleton(self, results: list[Result], target: str, version: str | None) -> str:
        path = self.settings.write_baseline
        assert path is not None
        if not path.is_absolute():
            path = self._invocation_dir / path
        doc = skeleton(results, target=self.redactor().url(target), server_version=version)
        write_baseline(path, doc)
        return f"baseline skeleton: {path} ({len(doc['entries'])} entries; fill in the reasons)"

    def _write_repeats(self, report_dir: Path, target: str, strict: bool) -> None:
        """Each repeat's own report and transcripts under ``repeats/<n>/`` (replayable)."""
        per_repeat = repeat_reports(
            self._repeats, self.plan(), set(self.recorded), self._observed, self._session_error
        )
        write_repeats(report_dir, per_repeat, target, strict, self.redactor(), self._started_at)

    def redactor_lines(self, lines: list[str]) -> list[str]:
        redactor = self.redactor()
        return [redactor.text(line) for line in lines]

    def close(self) -> None:
        """Stop the embedded server (idempotent; called however the run ends)."""
        self._prewrite.drop()
        if self._server is not None and self._server.running():
            self._server.stop()

    def _mark_started(self) -> None:
        self._started_at = self._started_at or _now_iso()
