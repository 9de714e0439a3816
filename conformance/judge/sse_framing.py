"""SSE framing, judged on every 200 SSE stream, line by line as Mastodon clients read it.

The judges read the sans-I/O parser's violations as well as the bytes: a line or an event
beyond the parser's bounds (``line-too-long``, ``event-too-long``) is never buffered whole, so it
fails ``sse.framing.size-bounded`` (opportunistic: reported only when violated) and
``sse.framing.valid-lines`` cannot pass on it; before, an endless line was only a silence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from conformance.judge.context import JudgeContext
from conformance.judge.http_checks import sse_stream
from conformance.judge.registry import (
    Observation,
    check,
    held,
    never,
    noted,
    unexercised,
    violated,
)

_FIELD_LINE = re.compile(rb"^(event|data|id|retry): ")
#: Parser violations about one line that ``valid-lines`` reports (the byte scan sees only
#: LF-terminated lines; the parser also sees the last one, ended by CR or by the close).
_PARSER_LINE_KINDS = frozenset({"unknown-field", "field-without-space"})
_SIZE_KINDS = frozenset({"line-too-long", "event-too-long"})
EVIDENCE_BYTES = 200
_NO_VALUE_FIELD = re.compile(rb"^(event|data|id|retry):?$")


def _need_stream(cx: JudgeContext) -> Observation | None:
    if cx.head is None or cx.status != 200:
        return unexercised(f"no 200 response (status {cx.status})")
    if not cx.body:
        return unexercised("empty body")
    return None


def _complete_lines(body: bytes) -> list[bytes]:
    """Lines terminated by LF (CR kept); the unterminated tail of a cut recording is skipped."""
    return body.split(b"\n")[:-1]


@check("sse.framing.valid-lines", applies=sse_stream)
def valid_lines(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_stream(cx)) is not None:
        yield skip
        return
    bad = 0
    flagged: set[bytes] = set()
    for line in _complete_lines(cx.body):
        line = line.rstrip(b"\r")
        if not line or line.startswith(b":") or _FIELD_LINE.match(line):
            continue
        bad += 1
        flagged.add(line)
        if _NO_VALUE_FIELD.match(line):
            why = "a field without ': ' (Mastodon.py raises 'Malformed event')"
        elif b":" in line:
            why = "an unknown field or a field without a space after the colon"
        else:
            why = "a line without a colon"
        yield violated(
            f"expected 'field: value' lines (event, data, id, retry); observed {why}: "
            f"{line[:80]!r}",
            evidence=line,
        )
    for violation in cx.sse.violations:
        if violation.kind == "bom-not-at-start":
            yield violated(
                f"expected no BOM inside the stream; observed {violation.detail}",
                evidence=violation.raw,
            )
        elif violation.kind == "line-too-long":
            bad += 1
            yield violated(
                "expected 'field: value' lines a client can buffer; observed a "
                f"{violation.detail} at t={violation.t:.3f}",
                evidence=violation.raw[:EVIDENCE_BYTES],
            )
        elif violation.kind in _PARSER_LINE_KINDS:
            line = violation.raw.rstrip(b"\r\n")
            if line in flagged:
                continue  # the byte scan above already reported this line
            bad += 1
            flagged.add(line)
            yield violated(
                f"expected 'field: value' lines (event, data, id, retry); observed "
                f"{violation.kind} ({violation.detail}): {line[:80]!r}",
                evidence=line[:EVIDENCE_BYTES],
            )
    if not bad:
        yield held("every non-comment line is 'field: value'")


@check("sse.framing.lf-line-endings", applies=sse_stream)
def lf_line_endings(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_stream(cx)) is not None:
        yield skip
        return
    other = sorted(e for e in cx.sse.line_endings if e != "\n")
    if not other:
        yield held("all lines end with LF")
        return
    raw = next((v.raw for v in cx.sse.violations if v.kind == "cr-line-ending"), None)
    names = ", ".join("CRLF" if e == "\r\n" else "CR" for e in other)
    yield violated(f"expected LF line endings; observed {names}", evidence=raw)


@check("sse.framing.event-field", applies=sse_stream)
def event_field(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_stream(cx)) is not None:
        yield skip
        return
    events = cx.sse.events
    if not events:
        yield unexercised("no event dispatched")
        return
    bad = [e for e in events if not any(ln.startswith(b"event:") for ln in e.raw.splitlines())]
    for ev in bad:
        yield violated(
            "expected an 'event:' line naming the event; observed an event "
            f"without one (clients see 'message'): {ev.raw[:120]!r}",
            evidence=ev.raw,
        )
    if not bad:
        yield held(f"{len(events)} events, each with an event: line")


@check("sse.framing.data-field", applies=sse_stream)
def data_field(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_stream(cx)) is not None:
        yield skip
        return
    events = [e for e in cx.sse.events if e.event != "filters_changed"]
    if not events:
        yield unexercised("no event other than filters_changed dispatched")
        return
    bad = [e for e in events if not e.has_data]
    for ev in bad:
        yield violated(
            f"expected a data: line in the {ev.event} event; observed none", evidence=ev.raw
        )
    if not bad:
        yield held(f"{len(events)} events carry data")


@check("sse.framing.blank-line-terminates-event", applies=sse_stream)
def blank_line(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_stream(cx)) is not None:
        yield skip
        return
    judged = False
    for ev in cx.sse.events:
        judged = True
        names = [line for line in ev.raw.splitlines() if line.startswith(b"event:")]
        if len(names) > 1:
            yield violated(
                f"expected a blank line after each event; observed {len(names)} "
                "events merged into one block",
                evidence=ev.raw,
            )
    for violation in cx.sse.violations:
        if violation.kind != "unterminated-event":
            continue
        merged = sum(1 for line in violation.raw.splitlines() if line.startswith(b"event:")) > 1
        if cx.end_how == "eof" or merged:
            judged = True
            yield violated(
                "expected every event to end with a blank line; observed "
                f"{violation.detail} at a clean end"
                if not merged
                else "expected a blank line after each event; observed several events "
                "never terminated",
                evidence=violation.raw,
            )
    if judged:
        yield held("every event ends with a blank line")
    else:
        yield unexercised("no event to judge")


@check("sse.framing.utf8", applies=sse_stream)
def utf8(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_stream(cx)) is not None:
        yield skip
        return
    bad = [v for v in cx.sse.violations if v.kind == "invalid-utf8"]
    for violation in bad:
        yield violated(f"expected UTF-8; observed {violation.detail}", evidence=violation.raw)
    if not bad:
        yield held("body is valid UTF-8")


@check("sse.framing.no-id-retry", applies=sse_stream)
def no_id_retry(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_stream(cx)) is not None:
        yield skip
        return
    lines = [
        ln
        for ln in _complete_lines(cx.body)
        if ln.startswith((b"id:", b"retry:", b"id\r", b"retry\r"))
    ]
    if lines:
        yield noted(
            f"server sends {len(lines)} id:/retry: lines (Mastodon sends none), "
            f"e.g. {lines[0][:60]!r}",
            evidence=lines[0],
        )
    else:
        yield noted("no id:/retry: fields (as Mastodon: no resume)")


@check("sse.framing.single-data-line", applies=sse_stream)
def single_data_line(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_stream(cx)) is not None:
        yield skip
        return
    if not cx.sse.events:
        yield unexercised("no event dispatched")
        return
    multi = [
        e
        for e in cx.sse.events
        if sum(1 for ln in e.raw.splitlines() if ln.startswith(b"data:")) > 1
    ]
    if multi:
        yield noted(
            f"{len(multi)} events use several data: lines (legal SSE; Mastodon sends one)",
            evidence=multi[0].raw,
        )
    else:
        yield noted("every event has one data: line (as Mastodon)")


@check("sse.framing.size-bounded", applies=sse_stream, plan=never)
def size_bounded(cx: JudgeContext) -> Iterator[Observation]:
    if _need_stream(cx) is not None:
        return
    for violation in cx.sse.violations:
        if violation.kind in _SIZE_KINDS:
            yield violated(
                f"expected every SSE line and event to end within the parser's bounds; "
                f"observed a {violation.detail} at t={violation.t:.3f}",
                evidence=violation.raw[:EVIDENCE_BYTES],
            )
