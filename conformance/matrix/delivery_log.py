"""What a run's stimulus did, as the delivery judge reads it: the delivery log types.

The runner fills a ``DeliveryLog`` while it stimulates; ``matrix.stimulus_log`` saves it beside
the transcripts; the delivery judge reads it (live or replayed). Kept here, below both the
session and the judges, so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.stimulus.base import Produced


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What happened to one planned stimulus step. ``produced`` None: it did not run, because of
    ``reason``; ``error`` True when the suite or the target's REST API failed (verdict error)."""

    key: str
    produced: Produced | None
    reason: str = ""
    error: bool = False


@dataclass(frozen=True, slots=True)
class Seen:
    """One event delivered on a connection, decoded."""

    index: int
    event: str
    payload: Any
    stream: list[Any] | None
    raw: Any
    #: when it arrived, on its connection's clock (None: not known)
    t: float | None = None


@dataclass(slots=True)
class DeliveryLog:
    """The session's stimulus log, as the delivery judge needs it."""

    outcomes: dict[str, StepOutcome] = field(default_factory=dict)
    mux_unsubscribed_after: str | None = None
    not_run_reason: str = ""  # set when no stimulus ran at all (read-only, no driver)
    #: ``--max-connections`` batches after the first (``session/batches.py``): connection key ->
    #: the step outcomes of the batch that connection was open in. The first batch's (and an
    #: unbatched run's) outcomes are ``outcomes``; each batch stimulated its own streams.
    batches: dict[str, dict[str, StepOutcome]] = field(default_factory=dict)

    def outcome_for(self, step_key: str, connection: str | None) -> StepOutcome | None:
        """The outcome of ``step_key`` as ``connection`` observed it (its batch's run)."""
        if connection is not None and connection in self.batches:
            return self.batches[connection].get(step_key)
        return self.outcomes.get(step_key)


__all__ = ["DeliveryLog", "Seen", "StepOutcome"]
