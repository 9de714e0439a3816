"""schemas/transcript.schema.json matches what model.py writes, for captures and edge records."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from conformance.transcript.captures import load_captures
from conformance.transcript.model import Meta, Record, Transcript


def test_every_capture_transcript_validates(
    captures_dir: Path, assert_schema_valid: Callable[[Transcript], None]
) -> None:
    transcripts = load_captures(captures_dir)
    assert transcripts
    for transcript in transcripts:
        assert_schema_valid(transcript)


def test_binary_bytes_use_data_b64(assert_schema_valid: Callable[[Transcript], None]) -> None:
    t = Transcript(meta=Meta(id="b", transport="ws", request={}))
    t.add(0.0, "connect")
    t.add(0.1, "ws-frame-recv", opcode="binary", data=b"\xff\x00")
    t.add(0.2, "ws-frame-recv", opcode="close", data=b"\x03\xe8", close_code=1000, close_reason="")
    t.add(0.3, "timeout", wait="update", deadline_s=1.5)
    t.add(0.4, "end", how="deadline", detail="")
    assert '"data_b64"' in t.dumps()
    assert_schema_valid(t)


@pytest.mark.parametrize(
    "line",
    [
        {"t": 0.0, "kind": "end", "how": "bogus"},
        {"t": 0.0, "kind": "body-chunk"},
        {"t": 0.0, "kind": "body-chunk", "data": "a", "data_b64": "YQ=="},
        {
            "t": 0.0,
            "kind": "response-head",
            "status": "200",
            "reason": "",
            "http_version": "",
            "headers": [],
        },
        {"t": 0.0, "kind": "ws-frame-recv", "opcode": "weird", "data": ""},
        {"t": 0.0, "kind": "unknown-kind"},
        {"t": -1, "kind": "connect"},
        {
            "kind": "meta",
            "format": 1,
            "id": "x",
            "transport": "websocket",
            "request": {},
            "context": {},
            "source": "live",
            "server": {},
            "started_at": None,
        },
        {
            "kind": "meta",
            "format": 1,
            "id": "x",
            "transport": "sse",
            "request": {},
            "context": {"purpose": "chat"},
            "source": "live",
            "server": {},
            "started_at": None,
        },
    ],
)
def test_schema_rejects_malformed_lines(
    transcript_validator: Draft202012Validator, line: dict[str, object]
) -> None:
    assert list(transcript_validator.iter_errors(line))


def test_schema_accepts_model_output(transcript_validator: Draft202012Validator) -> None:
    meta = Meta(
        id="x",
        transport="sse",
        request={"method": "GET", "url": "http://h/", "headers": [["Accept", "text/event-stream"]]},
        context={"purpose": "stream", "stream": "user", "auth": "header"},
    )
    assert not list(transcript_validator.iter_errors(meta.to_json()))
    rec = Record(t=1.0, kind="stimulus", fields={"action": "rest", "detail": {}, "marker": None})
    assert not list(transcript_validator.iter_errors(json.loads(json.dumps(rec.to_json()))))


def test_dump_writes_what_dumps_returns(captures_dir: Path) -> None:
    """``Transcript.dump`` (report writers) and ``dumps`` write the same text, records or not."""
    empty = Transcript(meta=Meta(id="e", transport="http", request={"url": "ü\n"}))
    for transcript in [empty, *load_captures(captures_dir)]:
        file = io.StringIO()
        transcript.dump(file)
        assert file.getvalue() == transcript.dumps()
        assert Transcript.loads(file.getvalue()) == transcript
