"""report.json's run-level block (``extra``): what a live run adds beside its cases.

A pure function of the run's state, split from ``run.py`` so the live path and the background
prewrite (``reports/prewrite.py``) build it the same way from the same Results."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.config import Settings, settings_as_dict
from conformance.verdicts import Result

if TYPE_CHECKING:
    from conformance.baseline import BaselineOutcome
    from conformance.discovery import TargetInfo
    from conformance.session import SessionOutcome

__all__ = ["run_extra"]


def run_extra(
    settings: Settings,
    target: TargetInfo | None,
    *,
    embedded: bool,
    outcome: SessionOutcome | None,
    session_error: str | None,
    interrupted: bool,
    strict: bool,
    status: int,
    excluded: list[str] | None,
    observed: list[Result],
    selection: tuple[int, int] | None,
    baseline: BaselineOutcome | None,
    repeat: tuple[int, list[str]] | None,
) -> dict[str, Any]:
    """``excluded`` only with ``--exclude``; ``selection`` is (planned, selected) cases;
    ``repeat`` is (runs, flaky case ids) for ``--repeat`` above 1."""
    extra: dict[str, Any] = {"settings": settings_as_dict(settings), "embedded": embedded}
    if target is not None:
        extra.update(
            server_version=target.version,
            streaming_url=target.streaming_base,
            is_reference=target.is_reference,
        )
    if outcome is not None:
        extra["session_s"] = round(outcome.duration_s, 3)
    if session_error:
        extra["session_error"] = session_error
    extra["cleanup_not_removed"] = getattr(outcome, "cleanup_not_removed", None) or []
    if interrupted:
        extra["interrupted"] = True
    extra.update(fail_on="warn" if strict else "fail", exit_status=status)
    if excluded is not None:
        extra["excluded"] = excluded
    if observed:
        extra["observations"] = [r.to_json() for r in observed]
    if selection is not None:
        extra["selection"] = {"planned": selection[0], "selected": selection[1]}
    if baseline is not None:
        extra["baseline"] = baseline.summary()
    if repeat is not None:
        extra["repeat"] = {"runs": repeat[0], "flaky": repeat[1]}
    return extra
