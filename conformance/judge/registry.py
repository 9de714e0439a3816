"""The check registry: pure check functions, each bound to one requirement, registered by decorator.

A check is a generator over a :class:`~conformance.judge.context.JudgeContext` that yields
:class:`Observation` values; the engine (``conformance.judge.engine``) turns them into exactly one
``Result`` per planned id. Checks never do I/O and never see the network.

How to write one (``conformance/judge/delivery.py`` and the area modules use exactly this)::

    @check("events.delete.bare-id", applies=on_streams, plan=expects("delete"))
    def delete_bare_id(cx: JudgeContext) -> Iterator[Observation]:
        for ev in cx.delivered("delete"):
            if ok(ev):
                yield held("...")
            else:
                yield violated("expected ...; observed ...", evidence=ev.raw)

* ``applies(meta)`` decides whether the check runs on a transcript at all.
* ``plan(meta)`` decides whether it has a *planned* Result (default: whenever it applies).
  A check that applies but is not planned is opportunistic: if it observed anything it is
  reported as an extra Result, otherwise it stays silent.
* ``per_event=True`` makes one Result per event name (``id[...-<event>]``): planned for the
  names in ``meta.context["expect_events"]`` accepted by ``events`` (None = all), extra for
  any other name observed. Observations must then carry ``event=``.

**Run-level checks** judge a whole run rather than one transcript (delivery needs the stimulus
log and every stream; discovery agreement needs both instance documents). They are registered
the same way, with ``@run_check(name, owns=..., plan=...)``: ``fn(rcx: RunJudgeContext)`` yields
Results for the run's cases it owns (``owns(requirement)``), and ``plan(metas)`` names the cases
it plans from the metas of the run's connections (the delivery cases come from the stimulus-step
table instead, so its ``plan`` is empty). ``judge.pipeline.judge_run`` runs both kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.matrix.cases import PlannedCase
from conformance.matrix.delivery_log import DeliveryLog
from conformance.matrix.run_context import RunContext
from conformance.transcript.model import Meta, Transcript
from conformance.verdicts import Result, Verdict

if TYPE_CHECKING:
    from conformance.judge.context import JudgeContext

EVIDENCE_LIMIT = 600


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """One thing a check saw. ``verdict`` None means "the requirement was violated": the engine
    maps it to the requirement level (``verdict_for_violation``)."""

    verdict: Verdict | None
    message: str
    evidence: str | None = None
    event: str | None = None


def evidence_of(raw: Any) -> str | None:
    """repr of the raw bytes/frame, truncated so reports stay readable."""
    if raw is None:
        return None
    text = repr(raw)
    if len(text) > EVIDENCE_LIMIT:
        text = text[: EVIDENCE_LIMIT - 3] + "..."
    return text


def held(message: str, *, event: str | None = None, evidence: Any = None) -> Observation:
    return Observation(
        verdict=Verdict.PASS, message=message, event=event, evidence=evidence_of(evidence)
    )


def violated(message: str, *, evidence: Any = None, event: str | None = None) -> Observation:
    return Observation(verdict=None, message=message, evidence=evidence_of(evidence), event=event)


def unexercised(message: str, *, event: str | None = None) -> Observation:
    return Observation(verdict=Verdict.NOT_EXERCISED, message=message, event=event)


def noted(message: str, *, evidence: Any = None, event: str | None = None) -> Observation:
    """An observation for an INFO requirement (or a non-binding remark)."""
    return Observation(
        verdict=Verdict.INFO, message=message, evidence=evidence_of(evidence), event=event
    )


def with_verdict(
    verdict: Verdict, message: str, *, evidence: Any = None, event: str | None = None
) -> Observation:
    """An explicit verdict, e.g. WARN for a schema finding of warn severity under a MUST."""
    return Observation(
        verdict=verdict, message=message, evidence=evidence_of(evidence), event=event
    )


MetaPredicate = Callable[[Meta], bool]
CheckFn = Callable[["JudgeContext"], Iterable[Observation]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    requirement: str
    fn: CheckFn
    applies: MetaPredicate
    plan: MetaPredicate
    per_event: bool = False
    events: frozenset[str] | None = None

    def accepts_event(self, name: str) -> bool:
        return self.events is None or name in self.events

    def planned_events(self, meta: Meta) -> list[str]:
        expected = meta.context.get("expect_events") or []
        out: list[str] = []
        for name in expected:
            if isinstance(name, str) and self.accepts_event(name) and name not in out:
                out.append(name)
        return out


CHECKS: list[Check] = []


@dataclass(frozen=True, slots=True)
class PlannedResult:
    """A Result the judges will certainly emit (per-transcript: for a transcript with this meta;
    run-level: for a run whose connections have these metas)."""

    id: str
    requirement: str
    event: str | None = None
    transport: str | None = None
    stream: str | None = None


@dataclass(frozen=True, slots=True)
class RunJudgeContext:
    """What a run-level check reads: every transcript by key, the stimulus log, the cases."""

    transcripts: Mapping[str, Transcript]
    log: DeliveryLog
    cases: Sequence[PlannedCase]
    #: the run's facts (``--timeout-multiplier`` for timing margins); None: defaults
    context: RunContext | None = None


RunCheckFn = Callable[[RunJudgeContext], Iterable[Result]]
RunPlanFn = Callable[[Sequence[Meta]], Iterable[PlannedResult]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunCheck:
    name: str
    fn: RunCheckFn
    owns: Callable[[str], bool]
    plan: RunPlanFn


RUN_CHECKS: list[RunCheck] = []


def _plans_nothing(_metas: Sequence[Meta]) -> Iterable[PlannedResult]:
    return ()


def run_check(
    name: str, *, owns: Callable[[str], bool], plan: RunPlanFn | None = None
) -> Callable[[RunCheckFn], RunCheckFn]:
    """Register ``fn`` as a run-level check judging the requirements ``owns`` accepts."""

    def register(fn: RunCheckFn) -> RunCheckFn:
        if any(c.name == name for c in RUN_CHECKS):
            raise ValueError(f"run-level check {name} already registered")
        RUN_CHECKS.append(
            RunCheck(name=name, fn=fn, owns=owns, plan=plan if plan is not None else _plans_nothing)
        )
        return fn

    return register


def iter_run_checks() -> Iterator[RunCheck]:
    return iter(RUN_CHECKS)


def check(
    requirement: str,
    *,
    applies: MetaPredicate,
    plan: MetaPredicate | None = None,
    per_event: bool = False,
    events: Iterable[str] | None = None,
) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the check of ``requirement`` (one check per requirement id)."""

    def register(fn: CheckFn) -> CheckFn:
        from conformance.requirements import REGISTRY

        if requirement not in REGISTRY:
            raise ValueError(f"check {fn.__name__}: unknown requirement {requirement!r}")
        if any(c.requirement == requirement for c in CHECKS):
            raise ValueError(f"requirement {requirement} already has a check")
        CHECKS.append(
            Check(
                requirement=requirement,
                fn=fn,
                applies=applies,
                plan=plan if plan is not None else applies,
                per_event=per_event,
                events=frozenset(events) if events is not None else None,
            )
        )
        return fn

    return register


# -- predicates over Meta, composable ---------------------------------------------------------


def purpose(meta: Meta) -> str | None:
    value = meta.context.get("purpose")
    return value if isinstance(value, str) else None


def is_transport(*transports: str) -> MetaPredicate:
    return lambda meta: meta.transport in transports


def has_purpose(*purposes: str) -> MetaPredicate:
    return lambda meta: purpose(meta) in purposes


def all_of(*preds: MetaPredicate) -> MetaPredicate:
    return lambda meta: all(p(meta) for p in preds)


def any_of(*preds: MetaPredicate) -> MetaPredicate:
    return lambda meta: any(p(meta) for p in preds)


def never(meta: Meta) -> bool:
    return False


def expects(*names: str) -> MetaPredicate:
    """Planned only when the case said it expects one of these events."""
    wanted = set(names)
    return lambda meta: bool(wanted & set(meta.context.get("expect_events") or []))


def context_flag(key: str) -> MetaPredicate:
    return lambda meta: bool(meta.context.get(key))


def iter_checks() -> Iterator[Check]:
    return iter(CHECKS)
