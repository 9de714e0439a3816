"""One live run's state, independent of pytest: settings, plan, target, outcome, reports.

The suite is record-then-judge: the whole session (open every stream, cause every event, judge
every transcript) runs once, and the pytest cases only look up their judged ``Result``. This
object holds that once-per-run state so the plugin stays wiring: ``plan()`` at collection time
(pure), ``outcome()`` lazily on the first case (starts the embedded server if there is no
target, discovers the target, runs ``run_session`` in its own event loop), ``result_for(case)``
per case, and ``finish()`` at the end (reports + exit status), ``close()`` always.

Failures are sorted by whose fault they are: an unreachable target or an embedded server that
will not start raises ``RunAborted`` (exit status 2, nothing was tested); a crash inside the
session turns every case into an ``error`` Result (also exit status 2 unless something failed).
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.config import Settings, resolve_settings, settings_as_dict
from conformance.discovery import DiscoveryError, TargetInfo
from conformance.discovery import discover as _discover
from conformance.embedded import EmbeddedError, EmbeddedServer, start_embedded
from conformance.redact import Redactor
from conformance.reports.run_reports import default_report_dir, redact_result, write_run_reports
from conformance.reports.summary import exit_status, summary_lines
from conformance.verdicts import Level, Result, Verdict

if TYPE_CHECKING:
    from conformance.session import PlannedCase, SessionOutcome

__all__ = ["RunAborted", "RunReport", "SuiteRun"]


class RunAborted(RuntimeError):
    """Nothing could be tested (target unreachable, embedded server failed): exit status 2."""


@dataclass
class RunReport:
    """What ``finish()`` wrote and decided."""

    status: int
    report_dir: Path
    results: list[Result]
    lines: list[str] = field(default_factory=list)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _level_of(requirement: str) -> Level:
    try:
        from conformance.requirements import REGISTRY
    except ImportError:  # pragma: no cover - the registry is part of the package
        return Level.MUST
    found = REGISTRY.get(requirement)
    return found.level if found is not None else Level.MUST


def error_result(case: PlannedCase, message: str) -> Result:
    """A harness-side problem for one case: never the server's fault, never a fail."""
    return Result(
        id=case.id,
        requirement=case.requirement,
        verdict=Verdict.ERROR,
        level=_level_of(case.requirement),
        message=message,
        transport=case.transport,
        stream=case.stream,
        event=case.event,
    )


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
    ) -> None:
        # The session functions are injectable so the harness is testable with stand-ins.
        self.plan_cases_fn = plan_cases
        self.run_session_fn = run_session
        self.discover_fn = discover or _discover
        self._cli = dict(cli_values or {})
        self._environ = environ
        self._invocation_dir = invocation_dir or Path.cwd()
        self._settings: Settings | None = None
        self._plan: list[PlannedCase] | None = None
        self._effective: Settings | None = None
        self._target: TargetInfo | None = None
        self._server: EmbeddedServer | None = None
        self._outcome: SessionOutcome | None = None
        self._session_error: str | None = None
        self._aborted: str | None = None
        self._started_at: str | None = None
        self._started_mono: float | None = None
        self.recorded: dict[str, Result] = {}

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
            self._plan = list(self.plan_cases_fn(self.settings))
        return self._plan

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

    def target(self) -> TargetInfo:
        """Start the embedded server if needed and discover the target (once)."""
        if self._aborted is not None:
            raise RunAborted(self._aborted)
        if self._target is not None:
            return self._target
        self._mark_started()
        try:
            settings = self.settings
            if settings.target is None:
                self._server = _start_server(settings)
                settings = _point_at(settings, self._server)
            self._effective = settings
            self._target = asyncio.run(
                self.discover_fn(settings, embedded=self._server is not None)
            )
        except (EmbeddedError, DiscoveryError) as exc:
            self._aborted = str(exc)
            raise RunAborted(self._aborted) from exc
        return self._target

    def outcome(self) -> SessionOutcome | None:
        """Run the session once; None if it crashed (every case then reports ``error``)."""
        if self._outcome is not None or self._session_error is not None:
            return self._outcome
        target = self.target()
        if self.run_session_fn is None:
            from conformance.session import run_session

            self.run_session_fn = run_session
        try:
            self._outcome = asyncio.run(self.run_session_fn(self.effective_settings, target))
        except Exception as exc:
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self._session_error = f"the live session crashed: {detail}"
        return self._outcome

    def result_for(self, case: PlannedCase) -> Result:
        """The judged Result of one planned case (redacted), recorded for the reports."""
        outcome = self.outcome()
        if outcome is None:
            result = error_result(case, self._session_error or "the live session did not run")
        else:
            found = outcome.results.get(case.id)
            result = (
                found
                if found is not None
                else error_result(case, "the live session produced no result for this planned case")
            )
        result = redact_result(result, self.redactor())
        self.recorded[case.id] = result
        return result

    def redactor(self) -> Redactor:
        secrets = list(self.effective_settings.secrets())
        if self._server is not None:
            secrets.extend(self._server.secrets)
        return Redactor(secrets)

    # -- end of run -----------------------------------------------------------------------------

    def results(self) -> list[Result]:
        out = list(self.recorded.values())
        if self._outcome is not None:
            redactor = self.redactor()
            out.extend(redact_result(r, redactor) for r in self._outcome.extra_results)
        return out

    def finish(self, *, interrupted: bool = False) -> RunReport | None:
        """Write the reports for the cases that ran; None if no suite case ran.

        An interrupted run (Ctrl-C) still writes what it has, marked ``"interrupted": true``.
        """
        if not self.started or self._aborted is not None:
            return None
        settings = self.effective_settings
        target = self._target.base_url if self._target else (settings.target or "embedded")
        results = self.results()
        if self._outcome is not None:
            started_at, duration = self._outcome.started_at, self._outcome.duration_s
        else:
            started_at = self._started_at or _now_iso()
            duration = time.monotonic() - (self._started_mono or time.monotonic())
        report_dir = settings.report_dir or default_report_dir(self._invocation_dir, target)
        if not report_dir.is_absolute():
            report_dir = self._invocation_dir / report_dir
        extra: dict[str, Any] = {
            "settings": settings_as_dict(settings),
            "embedded": self._server is not None,
        }
        if self._target is not None:
            extra.update(
                server_version=self._target.version,
                streaming_url=self._target.streaming_base,
                is_reference=self._target.is_reference,
            )
        if self._session_error:
            extra["session_error"] = self._session_error
        if interrupted:
            extra["interrupted"] = True
        transcripts = self._outcome.transcripts if self._outcome is not None else []
        write_run_reports(
            report_dir,
            target=target,
            started_at=started_at,
            duration_s=duration,
            results=results,
            transcripts=transcripts,
            redactor=self.redactor(),
            strict=settings.strict,
            extra=extra,
        )
        if self._outcome is not None and getattr(self._outcome, "stimuli", None) is not None:
            from conformance.session.stimulus_log import write_stimulus_log

            write_stimulus_log(report_dir, self.redactor().transcript(self._outcome.stimuli))
        status = exit_status(results, strict=settings.strict)
        lines = self.redactor_lines(summary_lines(results, target=target, strict=settings.strict))
        lines.append(f"reports: {report_dir}")
        return RunReport(status=status, report_dir=report_dir, results=results, lines=lines)

    def redactor_lines(self, lines: list[str]) -> list[str]:
        redactor = self.redactor()
        return [redactor.text(line) for line in lines]

    def close(self) -> None:
        """Stop the embedded server (idempotent; called however the run ends)."""
        if self._server is not None and self._server.running():
            self._server.stop()

    def _mark_started(self) -> None:
        if self._started_at is None:
            self._started_at = _now_iso()
            self._started_mono = time.monotonic()


def _start_server(settings: Settings) -> EmbeddedServer:
    kwargs: dict[str, Any] = {
        "heartbeat_s": settings.embedded_heartbeat_s,
        "ping_interval_s": settings.embedded_ping_interval_s,
    }
    if settings.redis_url:
        kwargs.update(bus="redis", redis_url=settings.redis_url)
    return start_embedded(**kwargs)


def _point_at(settings: Settings, server: EmbeddedServer) -> Settings:
    """The settings a run against the embedded server uses: its URLs, accounts and list."""
    first = server.accounts[0] if server.accounts else None
    second = server.accounts[1] if len(server.accounts) > 1 else None
    list_id = str(server.lists[0]["id"]) if server.lists else settings.list_id
    return replace(
        settings,
        target=server.url,
        streaming_url=server.streaming_url,
        token=first.token if first else None,
        second_token=second.token if second else None,
        account_id=first.id if first else None,
        second_account_id=second.id if second else None,
        list_id=list_id,
        allow_public_posts=True
        if settings.allow_public_posts is None
        else settings.allow_public_posts,
    )
