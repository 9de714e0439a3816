"""The stimulus log of a live run, saved beside the transcripts so delivery can be re-judged.

The judges need more than the transcripts: which steps ran, which ids they produced, which
REST bodies to compare payloads with (the ``DeliveryLog``), and what the run knew about itself
(the ``RunContext``: its whole plan, unopened connections, given-up setups, ...). This module
turns both (plus every raw stimulus a driver recorded: REST calls without credentials, Redis
publishes) into one transcript-format file, ``transcripts/_stimuli.jsonl``, and back.
``replay <run dir>`` then calls ``judge.pipeline.judge_run`` with exactly what the live run
passed it, so a saved run is re-judged to the same cases and verdicts.

Format (``schemas/transcript.schema.json``, unchanged): line 1 a ``meta`` record with id
``_stimuli``, transport ``http``, source ``stimulus-log`` and ``context["stimulus_log"]`` =
``{"format": 2, "steps": [...], "cases": [...], "mux_unsubscribed_after", "not_run_reason",
"run": {"plan": [...], "server_version", "long", "available", "unjudged", "setup_failures",
"run_level_only", "connection_keys", "timeout_multiplier", "pruned"}}`` (format 1, without
``run``, is still read: its delivery cases are then the plan of the run-level checks only); then
``stimulus`` records: one ``action: "step"`` per planned step (key, scenario, marker,
produced ids, the streams it must and must not reach) and the drivers' own records (``rest``
calls, ``redis-publish``). The leading underscore keeps
``replay`` from loading it as a connection transcript.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.matrix.cases import PlannedCase
from conformance.matrix.delivery_log import DeliveryLog, StepOutcome
from conformance.matrix.run_context import RunContext
from conformance.matrix.steps import STEP_BY_KEY
from conformance.stimulus.base import Produced
from conformance.transcript.model import (
    Meta,
    Record,
    Transcript,
    read_transcripts,
    write_transcripts,
)

STIMULI_FILE = "_stimuli.jsonl"
STIMULI_ID = "_stimuli"
LOG_FORMAT = 2
_READABLE_FORMATS = frozenset({1, 2})

__all__ = [
    "STIMULI_FILE",
    "STIMULI_ID",
    "SavedRun",
    "build_stimulus_log",
    "find_stimulus_log",
    "parse_stimulus_log",
    "read_saved_run",
    "write_stimulus_log",
]


def _plain(value: Any) -> Any:
    """JSON-safe copy (REST bodies and driver details are JSON already; be safe anyway)."""
    return json.loads(json.dumps(value, default=str))


def _produced_json(produced: Produced) -> dict[str, Any]:
    return {
        "scenario": produced.scenario,
        "marker": produced.marker,
        "ids": _plain(produced.ids),
        "rest_bodies": _plain(produced.rest_bodies),
        "detail": _plain(produced.detail),
    }


def _produced_from(obj: dict[str, Any]) -> Produced:
    return Produced(
        scenario=str(obj["scenario"]),
        marker=str(obj["marker"]),
        ids={str(k): str(v) for k, v in (obj.get("ids") or {}).items()},
        rest_bodies=dict(obj.get("rest_bodies") or {}),
        detail=dict(obj.get("detail") or {}),
    )


def _case_json(case: PlannedCase) -> dict[str, Any]:
    return {
        "id": case.id,
        "requirement": case.requirement,
        "group": case.group,
        "transport": case.transport,
        "stream": case.stream,
        "event": case.event,
        "needs": sorted(case.needs),
    }


def _case_from(obj: dict[str, Any]) -> PlannedCase:
    return PlannedCase(
        id=str(obj["id"]),
        requirement=str(obj["requirement"]),
        group=str(obj.get("group", "delivery")),
        transport=obj.get("transport"),
        stream=obj.get("stream"),
        event=obj.get("event"),
        needs=frozenset(obj.get("needs") or ()),
    )


def _is_delivery(case: PlannedCase) -> bool:
    return case.requirement.startswith(("delivery.", "ws.multiplex."))


def _context_json(context: RunContext) -> dict[str, Any]:
    return {
        "plan": [_case_json(c) for c in context.plan] if context.plan is not None else None,
        "server_version": context.server_version,
        "long": context.long,
        "available": sorted(context.available) if context.available is not None else None,
        "unjudged": dict(context.unjudged),
        "setup_failures": dict(context.setup_failures),
        "run_level_only": sorted(context.run_level_only),
        "connection_keys": list(context.connection_keys),
        "timeout_multiplier": context.timeout_multiplier,
        "pruned": dict(context.pruned),
    }


def _context_from(obj: dict[str, Any]) -> RunContext:
    plan = obj.get("plan")
    available = obj.get("available")
    return RunContext(
        plan=tuple(_case_from(c) for c in plan) if isinstance(plan, list) else None,
        server_version=obj.get("server_version"),
        long=bool(obj.get("long", True)),
        available=frozenset(available) if isinstance(available, list) else None,
        unjudged={str(k): str(v) for k, v in (obj.get("unjudged") or {}).items()},
        setup_failures={str(k): str(v) for k, v in (obj.get("setup_failures") or {}).items()},
        run_level_only=frozenset(obj.get("run_level_only") or ()),
        connection_keys=tuple(str(k) for k in obj.get("connection_keys") or ()),
        timeout_multiplier=_multiplier(obj.get("timeout_multiplier")),
        pruned={str(k): str(v) for k, v in (obj.get("pruned") or {}).items()},
    )


def _multiplier(value: Any) -> float:
    """A saved ``--timeout-multiplier`` (1 for logs written before it was saved)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return 1.0


def build_stimulus_log(
    log: DeliveryLog,
    cases: Iterable[PlannedCase],
    records: Iterable[Record] = (),
    *,
    server: dict[str, Any] | None = None,
    started_at: str | None = None,
    context: RunContext | None = None,
) -> Transcript:
    """The run's stimulus log as one transcript (not yet redacted: the caller redacts)."""
    steps: list[dict[str, Any]] = []
    step_records: list[Record] = []
    for key, outcome in log.outcomes.items():
        steps.append(_outcome_json(key, outcome))
        step = STEP_BY_KEY.get(key)
        step_records.append(
            Record(
                t=0.0,
                kind="stimulus",
                fields={
                    "action": "step",
                    "detail": {
                        "key": key,
                        "scenario": step.scenario if step else None,
                        "event": step.event if step else None,
                        "ids": _plain(outcome.produced.ids) if outcome.produced else {},
                        "arrive": list(step.arrive) if step else [],
                        "absent": list(step.absent) if step else [],
                        "ran": outcome.produced is not None,
                        "reason": outcome.reason,
                    },
                    "marker": outcome.produced.marker if outcome.produced else None,
                },
            )
        )
    context = {
        "case": STIMULI_ID,
        "stimulus_log": {
            "format": LOG_FORMAT,
            "steps": steps,
            "cases": [_case_json(c) for c in cases if _is_delivery(c)],
            "mux_unsubscribed_after": log.mux_unsubscribed_after,
            "not_run_reason": log.not_run_reason,
            **({"batches": _batches_json(log)} if log.batches else {}),
            "run": _context_json(context) if context is not None else None,
        },
    }
    meta = Meta(
        id=STIMULI_ID,
        transport="http",
        request={},
        context=context,
        source="stimulus-log",
        server=dict(server or {}),
        started_at=started_at,
    )
    ordered = sorted(records, key=lambda r: r.t)
    return Transcript(meta=meta, records=[*step_records, *ordered])


def parse_stimulus_log(transcript: Transcript) -> tuple[DeliveryLog, list[PlannedCase]]:
    """The ``DeliveryLog`` and delivery cases saved in a stimulus-log transcript."""
    data = transcript.meta.context.get("stimulus_log")
    if not isinstance(data, dict) or data.get("format") not in _READABLE_FORMATS:
        raise ValueError(f"not a stimulus log (format {sorted(_READABLE_FORMATS)})")
    log = DeliveryLog(
        mux_unsubscribed_after=data.get("mux_unsubscribed_after"),
        not_run_reason=str(data.get("not_run_reason") or ""),
    )
    for entry in data.get("steps") or []:
        log.outcomes[str(entry["key"])] = _outcome_from(entry)
    for batch in data.get("batches") or []:
        outcomes = {str(e["key"]): _outcome_from(e) for e in batch.get("steps") or []}
        for key in batch.get("connections") or []:
            log.batches[str(key)] = outcomes
    cases = [_case_from(c) for c in data.get("cases") or []]
    return log, cases


def _outcome_json(key: str, outcome: StepOutcome) -> dict[str, Any]:
    return {
        "key": key,
        "produced": _produced_json(outcome.produced) if outcome.produced else None,
        "reason": outcome.reason,
        "error": outcome.error,
    }


def _outcome_from(entry: dict[str, Any]) -> StepOutcome:
    produced = entry.get("produced")
    return StepOutcome(
        str(entry["key"]),
        _produced_from(produced) if isinstance(produced, dict) else None,
        str(entry.get("reason") or ""),
        bool(entry.get("error", False)),
    )


def _batches_json(log: DeliveryLog) -> list[dict[str, Any]]:
    """``--max-connections`` batches after the first: each batch's connections and the step
    outcomes of its own stimulation (``DeliveryLog.batches``), one entry per batch."""
    groups: dict[int, tuple[list[str], dict[str, StepOutcome]]] = {}
    for conn, outcomes in log.batches.items():
        groups.setdefault(id(outcomes), ([], outcomes))[0].append(conn)
    return [
        {"connections": conns, "steps": [_outcome_json(k, o) for k, o in outcomes.items()]}
        for conns, outcomes in groups.values()
    ]


def write_stimulus_log(report_dir: Path, transcript: Transcript) -> Path:
    """Write ``<report_dir>/transcripts/_stimuli.jsonl`` (the transcript must be redacted)."""
    path = Path(report_dir) / "transcripts" / STIMULI_FILE
    write_transcripts(path, [transcript])
    return path


def find_stimulus_log(path: Path) -> Path | None:
    """The stimulus log of a run directory (or of its ``transcripts`` folder), if saved."""
    path = Path(path)
    for candidate in (path / "transcripts" / STIMULI_FILE, path / STIMULI_FILE):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class SavedRun:
    """What a saved run's stimulus log gives the judging pipeline."""

    log: DeliveryLog
    context: RunContext


def saved_run(transcript: Transcript) -> SavedRun:
    """The ``DeliveryLog`` and ``RunContext`` of a stimulus-log transcript (format 1: the plan
    is its delivery cases, and the log's server version and ``long`` judging apply)."""
    log, cases = parse_stimulus_log(transcript)
    data = transcript.meta.context["stimulus_log"]
    run = data.get("run")
    if isinstance(run, dict):
        return SavedRun(log, _context_from(run))
    version = transcript.meta.server.get("version") if transcript.meta.server else None
    return SavedRun(log, RunContext(plan=None, server_version=version, legacy_cases=tuple(cases)))


def read_saved_run(path: Path) -> SavedRun | None:
    """The saved run of a report directory (or its ``transcripts`` folder); None without one.
    Raises ``OSError``/``ValueError``/``KeyError`` for an unreadable log."""
    found = find_stimulus_log(path) if Path(path).is_dir() else None
    saved = read_transcripts(found) if found is not None else []
    return saved_run(saved[0]) if saved else None
