"""Entity payloads against the schemas, through conformance.payloads.PayloadValidator.

SchemaFinding severities map to verdicts: fail -> the requirement's violation verdict, warn ->
WARN, info -> kept in the message of a pass (an unknown key is not a defect).

Payloads are hostile input: nothing is decoded before its size and nesting are known to be
within ``conformance.safejson``'s documented bounds. A payload beyond them fails
``payload.size-bounded`` / ``payload.json.depth-bounded`` (a client decoding it would be
exposed) instead of crashing the suite with a RecursionError. Those two checks are
opportunistic (reported only when violated), so conformant runs count the same cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance import safejson
from conformance.judge.context import Delivered, JudgeContext
from conformance.judge.events import on_streams
from conformance.judge.registry import (
    Observation,
    all_of,
    check,
    has_purpose,
    held,
    is_transport,
    never,
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
        return safejson.loads(text), None
    except safejson.JSONBoundsError as exc:
        return None, f"a payload that is not decoded: {exc} (payload.{_bound_id(exc)})"
    except ValueError:
        return text, None


def _bound_id(exc: safejson.JSONBoundsError) -> str:
    return "json.depth-bounded" if exc.kind == "depth" else "size-bounded"


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
                evidence=_head(ev.raw),
                event=ev.name,
            )
            continue
        findings = cx.validator.check_event(
            ev.name, payload, stream=_stream_name(cx, ev), server_version=cx.server_version
        )
        fails = [f for f in findings if f.severity == "fail"]
        # An unknown notification type is judged by events.notification.known-type (INFO).
        warns = [f for f in findings if f.severity == "warn" and not _type_value(ev.name, f)]
        infos = [f for f in findings if f.severity == "info" or _type_value(ev.name, f)]
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


def _type_value(event: str, finding: Any) -> bool:
    """An undocumented value of a notification's ``type`` (a soft enum finding)."""
    return event == "notification" and finding.severity == "warn" and finding.pointer == "/type"


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


# -- hostile payloads: bounded size and nesting --------------------------------------------------

EVIDENCE_BYTES = 200


def _head(raw: Any) -> Any:
    """The start of a possibly huge raw item (evidence must stay cheap to render)."""
    return raw[:EVIDENCE_BYTES] if isinstance(raw, str | bytes | bytearray) else raw


def _payload_texts(cx: JudgeContext) -> Iterator[tuple[str, str | bytes, Any]]:
    """(what, text, raw) for every JSON text a client of this connection would decode: SSE
    data, WebSocket text frames and (when the frame itself is sound) their payload strings."""
    from conformance.ws.messages import StreamMessage

    if cx.meta.transport == "ws":
        for record, parsed in cx.ws_received:
            if record.fields.get("opcode") != "text":
                continue
            yield f"text frame at t={record.t:.3f}", record.data, record.data
            if isinstance(parsed, StreamMessage) and isinstance(parsed.payload, str):
                yield f"{parsed.event} payload at t={record.t:.3f}", parsed.payload, record.data
    else:
        for ev in cx.sse.events:
            if ev.has_data:
                yield f"{ev.event} data at t={ev.t:.3f}", ev.data, ev.raw


def _beyond(cx: JudgeContext, kind: str) -> Iterator[tuple[str, safejson.JSONBoundsError, Any]]:
    frames_beyond = False
    for what, text, raw in _payload_texts(cx):
        if what.startswith("text frame"):
            frames_beyond = False
        elif frames_beyond:
            continue  # the frame already exceeded a bound: its payload is the same finding
        try:
            safejson.check_bounds(text)
        except safejson.JSONBoundsError as exc:
            frames_beyond = what.startswith("text frame")
            if exc.kind == kind:
                yield what, exc, raw
        except ValueError:
            continue  # not UTF-8: the framing checks report it


@check("payload.json.depth-bounded", applies=on_streams, plan=never)
def json_depth_bounded(cx: JudgeContext) -> Iterator[Observation]:
    for what, exc, raw in _beyond(cx, "depth"):
        yield violated(
            f"expected JSON nested at most {exc.limit} levels; observed the {what} nested "
            f"{exc.observed}+ levels (not decoded)",
            evidence=_head(raw),
        )


@check("payload.size-bounded", applies=on_streams, plan=never)
def size_bounded(cx: JudgeContext) -> Iterator[Observation]:
    for what, exc, raw in _beyond(cx, "size"):
        yield violated(
            f"expected at most {exc.limit} bytes; observed the {what} of {exc.observed} bytes",
            evidence=_head(raw),
        )
