"""Mastodon's own bytes, altered in one place, must fail the matching requirement.

Complements the hand-built mutants: these prove the checks see the fault in a real transcript,
with everything else about it conformant.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.replay import replay_results
from conformance.transcript.captures import load_capture
from conformance.transcript.model import Record, Transcript
from conformance.verdicts import Verdict


def _map_records(tr: Transcript, fn: Callable[[Record], Record | None]) -> Transcript:
    records = [r2 for r in tr.records if (r2 := fn(r)) is not None]
    return Transcript(meta=tr.meta, records=records)


def _with(record: Record, **fields: object) -> Record:
    return Record(t=record.t, kind=record.kind, fields={**record.fields, **fields})


def strip_blank_lines(tr: Transcript) -> Transcript:
    return _map_records(
        tr, lambda r: _with(r, data=r.data.replace(b"\n\n", b"\n")) if r.kind == "body-chunk" else r
    )


def crlf(tr: Transcript) -> Transcript:
    return _map_records(
        tr, lambda r: _with(r, data=r.data.replace(b"\n", b"\r\n")) if r.kind == "body-chunk" else r
    )


def drop_echo(tr: Transcript) -> Transcript:
    def fn(r: Record) -> Record:
        if r.kind != "response-head":
            return r
        headers = [h for h in r.fields["headers"] if h[0].lower() != "sec-websocket-protocol"]
        return _with(r, headers=headers)

    return _map_records(tr, fn)


def add_text_frame(tr: Transcript) -> Transcript:
    first = next(r for r in tr.records if r.kind == "ws-frame-recv")
    extra = Record(t=first.t, kind="ws-frame-recv", fields={"opcode": "text", "data": b"{}"})
    out = Transcript(meta=tr.meta, records=list(tr.records))
    out.records.insert(out.records.index(first), extra)
    return out


def payload_as_object(tr: Transcript) -> Transcript:
    def fn(r: Record) -> Record:
        if r.kind == "ws-frame-recv" and r.fields.get("opcode") == "text":
            obj = json.loads(r.data)
            if obj.get("event") == "update":
                obj["payload"] = json.loads(obj["payload"])
                return _with(r, data=json.dumps(obj).encode())
        return r

    return _map_records(tr, fn)


def drop_middle_heartbeat(tr: Transcript) -> Transcript:
    return _map_records(tr, lambda r: None if r.kind == "body-chunk" and 29 < r.t < 31 else r)


def served_instead_of_refused(tr: Transcript) -> Transcript:
    return _map_records(tr, lambda r: _with(r, status=200) if r.kind == "response-head" else r)


CASES = [
    ("sse-01-user", strip_blank_lines, "sse.framing.blank-line-terminates-event"),
    ("sse-01-user", crlf, "sse.framing.lf-line-endings"),
    ("ws-01-user-subprotocol", drop_echo, "auth.token-source.subprotocol-echoed"),
    ("ws-01-user-subprotocol", add_text_frame, "ws.frame.json"),
    ("ws-01-user-subprotocol", payload_as_object, "payload.ws.string"),
    ("long-01-sse-heartbeat", drop_middle_heartbeat, "sse.heartbeat.within-timeout"),
    ("sse-err-01-user-no-token", served_instead_of_refused, "errors.sse.missing-token"),
]


@pytest.mark.parametrize(
    "capture, mutate, requirement", CASES, ids=[f"{c}-{m.__name__}" for c, m, _ in CASES]
)
def test_altered_capture_fails(
    capture: str, mutate: Callable[[Transcript], Transcript], requirement: str, captures_dir: Path
) -> None:
    original = load_capture(captures_dir / f"{capture}.jsonl")
    before = [r for r in replay_results([original]) if r.requirement == requirement]
    after = [r for r in replay_results([mutate(original)]) if r.requirement == requirement]
    assert before and all(r.verdict is Verdict.PASS for r in before)
    assert any(r.verdict is Verdict.FAIL for r in after), [(r.verdict, r.message) for r in after]
