"""Entity payloads against the schemas, through conformance.payloads.PayloadValidator.

SchemaFinding severities map to verdicts: fail -> the requirement's violation verdict, warn ->
WARN, info -> kept in the message of a pass (an unknown key is not a defect).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from conformance.judge.context import Delivered, JudgeContext
from conformance.judge.events import on_streams
from conformance.judge.registry import (
    Observation,
    all_of,
    check,
    has_purpose,
    held,
    is_transport,
    unexercised,
    violated,
    with_verdict,
)
from conformance.payloads.events import EVENT_SCHEMAS, NO_PAYLOAD, STRING_PAYLOAD_EVENTS
from conformance.verdicts import Verdict

MAX_FINDINGS = 4


def _decode(ev: Delivered) -> tuple[Any, str | None]:
    """(payload as the validator wants it, problem) for one delivered event."""
    if ev.transport == "ws":
        if not ev.present:
            return NO_PAYLOAD, None
        if not isinstance(ev.payload, str):
            return None, (
                f"payload is JSON {type(ev.payload).__name__} {ev.payload!r:.60}, not a string"
            )
        text = ev.payload
    else:
        if ev.payload is None:
            return NO_PAYLOAD, None
        text = ev.payload
    if ev.name in STRING_PAYLOAD_EVENTS:
        return text, None
    if ev.name == "filters_changed":
        return (NO_PAYLOAD if text in ("", "undefined") else text), None
    try:
        return json.loads(text), None
    except ValueError:
        return text, None


def _stream_name(cx: JudgeContext, ev: Delivered) -> str | None:
    if ev.stream and isinstance(ev.stream[0], str):
        return ev.stream[0]
    return cx.stream


#: Failing payloads validated in detail per connection; the rest of a hostile flood is counted,
#: not validated (a detailed validation costs milliseconds: 1000s of them would stall a run).
MAX_FAILING_VALIDATIONS = 20


@check("payload.schema.valid", applies=on_streams, per_event=True, events=EVENT_SCHEMAS)
def schema_valid(cx: JudgeContext) -> Iterator[Observation]:
    failing = 0
    skipped: dict[str, int] = {}
    for ev in cx.delivered():
        if ev.name not in EVENT_SCHEMAS:
            continue
        if failing >= MAX_FAILING_VALIDATIONS:
            skipped[ev.name] = skipped.get(ev.name, 0) + 1
            continue
        payload, problem = _decode(ev)
        if problem is not None:
            yield violated(
                f"expected a {ev.name} payload string holding the entity; observed {problem}",
                evidence=ev.raw,
                event=ev.name,
            )
            continue
        findings = cx.validator.check_event(
            ev.name, payload, stream=_stream_name(cx, ev), server_version=cx.server_version
        )
        fails = [f for f in findings if f.severity == "fail"]
        warns = [f for f in findings if f.severity == "warn"]
        infos = [f for f in findings if f.severity == "info"]
        if fails:
            failing += 1
            yield violated(
                f"{ev.name} at t={ev.t:.3f}: " + _describe(fails), evidence=ev.raw, event=ev.name
            )
        elif warns:
            yield with_verdict(
                Verdict.WARN,
                f"{ev.name} at t={ev.t:.3f}: " + _describe(warns),
                evidence=ev.raw,
                event=ev.name,
            )
        else:
            note = f" ({len(infos)} info: {_describe(infos)})" if infos else ""
            yield held(f"{ev.name} payload valid{note}", event=ev.name)
    for name, count in skipped.items():
        yield violated(
            f"{count} more {name} events not validated after {MAX_FAILING_VALIDATIONS} failing"
            " ones (bounded work on a hostile stream)",
            event=name,
        )


def _describe(findings: list[Any]) -> str:
    parts = [
        f"{f.pointer or '/'}: expected {f.expected}; observed {f.observed}"
        for f in findings[:MAX_FINDINGS]
    ]
    if len(findings) > MAX_FINDINGS:
        parts.append(f"... {len(findings) - MAX_FINDINGS} more")
    return "; ".join(parts)


ws_streams = all_of(is_transport("ws"), has_purpose("stream", "handshake"))


@check("payload.ws.string", applies=ws_streams)
def ws_payload_string(cx: JudgeContext) -> Iterator[Observation]:
    judged = 0
    for ev in cx.delivered():
        if ev.name == "filters_changed" and not ev.present:
            continue
        judged += 1
        if not ev.present:
            yield violated(
                f"expected a payload string in the {ev.name} frame; observed no payload key",
                evidence=ev.raw,
            )
        elif not isinstance(ev.payload, str):
            yield violated(
                f"expected the {ev.name} payload as a JSON string; observed JSON "
                f"{type(ev.payload).__name__}",
                evidence=ev.raw,
            )
    if judged:
        yield held(f"{judged} payloads are strings")
    else:
        yield unexercised("no event frame received")
