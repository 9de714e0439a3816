"""The record of one collected pytest case, shared by every part of the plan that makes cases."""

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
