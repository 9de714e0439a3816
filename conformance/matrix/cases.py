"""The record of one planned case, shared by the plan that makes cases and the judges that
judge run-level cases (delivery, discovery agreement)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlannedCase:
    """One collected pytest case; ``needs`` names what a run must offer to exercise it."""

    id: str
    requirement: str
    group: str
    transport: str | None
    stream: str | None
    event: str | None
    needs: frozenset[str] = frozenset()
