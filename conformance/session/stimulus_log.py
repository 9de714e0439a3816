"""The stimulus log of a live run, saved beside the transcripts so delivery can be re-judged.

The delivery judge needs more than the transcripts: which steps ran, which ids they produced,
which REST bodies to compare payloads with, and which cases were planned. The runner keeps all
of that in a ``DeliveryLog``; this module turns it (plus every raw stimulus a driver recorded:
REST calls without credentials, Redis publishes) into one transcript-format file,
``transcripts/_stimuli.jsonl``, and back. ``replay <run dir>`` then calls ``judge_delivery``
exactly as the live run did, so a saved run is fully re-judgeable offline.

Format (``schemas/transcript.schema.json``, unchanged): line 1 a ``meta`` record with id
``_stimuli``, transport ``http``, source ``stimulus-log`` and ``context["stimulus_log"]`` =
``{"format": 1, "steps": [...], "cases": [...], "mux_unsubscribed_after", "not_run_reason"}``;
then ``stimulus`` records: one ``action: "step"`` per planned step (key, scenario, marker,
produced ids, the streams it must and must not reach) and the drivers' own records
(``rest`` calls, ``redis-publish``). The leading underscore keeps ``replay`` from loading it as a
connection transcript.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from conformance.judge.delivery import DeliveryLog, StepOutcome
from conformance.session.plan import STEP_BY_KEY, PlannedCase
from conformance.stimulus.base import Produced
from conformance.transcript.model import Meta, Record, Transcript, read_transcripts
from conformance.verdicts import Result

STIMULI_FILE = "_stimuli.jsonl"
STIMULI_ID = "_stimuli"
LOG_FORMAT = 1

__all__ = [
    "STIMULI_FILE",
    "build_stimulus_log",
    "find_stimulus_log",
    "parse_stimulus_log",
    "replay_delivery",
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


def build_stimulus_log(
    log: DeliveryLog,
    cases: Iterable[PlannedCase],
    records: Iterable[Record] = (),
    *,
    server: dict[str, Any] | None = None,
    started_at: str | None = None,
) -> Transcript:
    """The run's stimulus log as one transcript (not yet redacted: the caller redacts)."""
    steps: list[dict[str, Any]] = []
    step_records: list[Record] = []
    for key, outcome in log.outcomes.items():
        entry: dict[str, Any] = {
            "key": key,
            "produced": _produced_json(outcome.produced) if outcome.produced else None,
            "reason": outcome.reason,
            "error": outcome.error,
        }
        steps.append(entry)
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
    if not isinstance(data, dict) or data.get("format") != LOG_FORMAT:
        raise ValueError("not a stimulus log (format 1)")
    log = DeliveryLog(
        mux_unsubscribed_after=data.get("mux_unsubscribed_after"),
        not_run_reason=str(data.get("not_run_reason") or ""),
    )
    for entry in data.get("steps") or []:
        produced = entry.get("produced")
        log.outcomes[str(entry["key"])] = StepOutcome(
            str(entry["key"]),
            _produced_from(produced) if isinstance(produced, dict) else None,
            str(entry.get("reason") or ""),
            bool(entry.get("error", False)),
        )
    cases = [_case_from(c) for c in data.get("cases") or []]
    return log, cases


def write_stimulus_log(report_dir: Path, transcript: Transcript) -> Path:
    """Write ``<report_dir>/transcripts/_stimuli.jsonl`` (the transcript must be redacted)."""
    directory = Path(report_dir) / "transcripts"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / STIMULI_FILE
    path.write_text(transcript.dumps(), encoding="utf-8")
    return path


def find_stimulus_log(path: Path) -> Path | None:
    """The stimulus log of a run directory (or of its ``transcripts`` folder), if saved."""
    path = Path(path)
    for candidate in (path / "transcripts" / STIMULI_FILE, path / STIMULI_FILE):
        if candidate.is_file():
            return candidate
    return None


def replay_delivery(path: Path, transcripts: Iterable[Transcript]) -> list[Result]:
    """The run-level judges for a saved run: ``judge_discovery`` whenever the instance documents
    were recorded, ``judge_delivery`` when a stimulus log was saved (else no delivery results)."""
    from conformance.judge.delivery import judge_delivery
    from conformance.judge.discovery import judge_discovery

    by_key = {t.meta.id: t for t in transcripts if t.meta.id != STIMULI_ID}
    out = judge_discovery(by_key)
    found = find_stimulus_log(path) if Path(path).is_dir() else None
    saved = read_transcripts(found) if found is not None else []
    if not saved:
        return out
    log, cases = parse_stimulus_log(saved[0])
    results = judge_delivery(by_key, log, cases)
    return out + [results[c.id] for c in cases if c.id in results]
