"""The state of one live session, shared by its phases (setup, connections, stimulation,
keep-alive windows): typed settings and target in, connections and the delivery log out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.config import Settings
from conformance.discovery import TargetInfo
from conformance.matrix.cases import PlannedCase
from conformance.matrix.delivery_log import DeliveryLog
from conformance.matrix.steps import Step
from conformance.session.recorder import LiveConnection
from conformance.stimulus.base import Produced


@dataclass
class LiveRun:
    """Everything the phases of one session read and write."""

    settings: Settings
    target: TargetInfo
    tag: str
    mult: float
    available: set[str]
    cases: list[PlannedCase] = field(default_factory=list)
    live: dict[str, LiveConnection] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    log: DeliveryLog = field(default_factory=DeliveryLog)
    notes: list[str] = field(default_factory=list)
    waits: list[tuple[str, Step, Produced]] = field(default_factory=list)
    list_id: str | None = None
    gated: dict[str, str] = field(default_factory=dict)  # step key -> why the target lacks it
    pruned: dict[str, str] = field(default_factory=dict)  # step key -> why selection dropped it
    #: set when the target advertises no streaming URL and its origin does not stream either
    no_streaming: str | None = None
    #: the origin probed for an unadvertised streaming API: {"origin", "health_status"}
    streaming_fallback: dict[str, Any] | None = None
    #: connections holding one of the ``--max-connections`` slots (``batches.OpenSlots``)
    slot_holders: set[str] = field(default_factory=set)
    #: the most connections that were open at once (``OpenSlots.peak``)
    peak_open: int = 0
    #: (phase name, monotonic start) as the progress line marks them (``SessionOutcome.phase_s``)
    phase_stamps: list[tuple[str, float]] = field(default_factory=list)

    def seconds(self, base: float) -> float:
        return base * self.mult
