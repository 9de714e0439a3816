"""Hostile payloads are the server's findings, never the suite's errors.

Mutated transcripts: 200,000 nesting levels in an SSE payload or a WebSocket frame used to raise
a RecursionError inside the suite (every payload check ``error``); an endless SSE line was only
"silence of 14.9 s" while ``sse.framing.valid-lines`` passed. Now each fails a requirement with
evidence, and no check errors.
"""

from __future__ import annotations

import json

import pytest
import transcript_builders as b

from conformance.judge import judge_transcript
from conformance.safejson import MAX_JSON_BYTES, MAX_JSON_DEPTH
from conformance.sse.parser import SSEParser
from conformance.transcript.model import Transcript
from conformance.transports.ws_limits import MAX_MESSAGE_BYTES
from conformance.verdicts import Result, Verdict

BOMB = "[" * 120_000 + "]" * 120_000  # 120,000 levels, under the 256 KiB size bound
DEEP_STATUS = '{"id": "1", "x": ' + "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1) + "}"
UPDATE = {"expect_events": ["update"]}


def _judge(transcript: Transcript) -> dict[str, list[Result]]:
    by_req: dict[str, list[Result]] = {}
    for result in judge_transcript(transcript):
        by_req.setdefault(result.requirement, []).append(result)
    errors = [(r.id, r.message) for rs in by_req.values() for r in rs if r.verdict is Verdict.ERROR]
    assert errors == []
    return by_req


def _verdicts(results: dict[str, list[Result]], requirement: str) -> set[Verdict]:
    return {r.verdict for r in results.get(requirement, [])}


def test_sse_bomb_fails_depth_bound_without_error() -> None:
    results = _judge(b.sse([(0.02, b":)\n"), (0.1, b.event("update", BOMB))], context=UPDATE))
    (depth,) = results["payload.json.depth-bounded"]
    assert depth.verdict is Verdict.FAIL and "nested" in depth.message
    assert depth.evidence and len(depth.evidence) < 700
    assert _verdicts(results, "payload.schema.valid") == {Verdict.FAIL}
    assert "payload.size-bounded" not in results


def test_sse_just_too_deep_fails_and_just_deep_enough_passes() -> None:
    results = _judge(b.sse([(0.1, b.event("update", DEEP_STATUS))], context=UPDATE))
    assert _verdicts(results, "payload.json.depth-bounded") == {Verdict.FAIL}
    ok = '{"id": "1", "x": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    results = _judge(b.sse([(0.1, b.event("update", ok))], context=UPDATE))
    assert "payload.json.depth-bounded" not in results
    assert _verdicts(results, "events.payload.json") == {Verdict.PASS}


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"id": "1", "content": "[" * 5000 + "{" * 5000})
    results = _judge(b.sse([(0.1, b.event("update", text))], context=UPDATE))
    assert "payload.json.depth-bounded" not in results
    assert _verdicts(results, "events.payload.json") == {Verdict.PASS}


def test_ws_bomb_in_the_payload_string_fails() -> None:
    frame = b.message("user", "update", BOMB)
    results = _judge(b.ws([(0.1, "recv", "text", frame)], context=UPDATE))
    (depth,) = results["payload.json.depth-bounded"]
    assert depth.verdict is Verdict.FAIL and "update payload" in depth.message


def test_ws_bomb_as_the_frame_itself_fails_once() -> None:
    results = _judge(b.ws([(0.1, "recv", "text", BOMB)], context=UPDATE))
    (depth,) = results["payload.json.depth-bounded"]
    assert depth.verdict is Verdict.FAIL and "text frame" in depth.message


def test_oversized_payload_fails_the_size_bound() -> None:
    half = "a" * (MAX_JSON_BYTES // 2 + 10)
    body = f"event: update\ndata: {half}\ndata: {half}\n\n".encode()
    results = _judge(b.sse([(0.1, body)], context=UPDATE))
    (size,) = results["payload.size-bounded"]
    assert size.verdict is Verdict.FAIL and str(MAX_JSON_BYTES) in size.message
    frame = b.message("user", "update", "b" * (MAX_JSON_BYTES + 1))
    results = _judge(b.ws([(0.1, "recv", "text", frame)], context=UPDATE))
    assert _verdicts(results, "payload.size-bounded") == {Verdict.FAIL}
    # a WebSocket message beyond the recorder's own bound is the transport's finding, judged once
    frame = b.message("user", "update", "b" * (MAX_MESSAGE_BYTES + 1))
    results = _judge(b.ws([(0.1, "recv", "text", frame)], context=UPDATE))
    assert _verdicts(results, "ws.frame.within-limits") == {Verdict.FAIL}
    assert "payload.size-bounded" not in results


def test_endless_sse_line_fails_size_bound_and_valid_lines() -> None:
    limit = SSEParser().max_line_bytes
    endless = b"data: " + b"x" * (limit + 100)  # never terminated
    results = _judge(b.sse([(0.02, b":)\n"), (0.1, endless)], end_t=15.0))
    (size,) = results["sse.framing.size-bounded"]
    assert size.verdict is Verdict.FAIL and "line longer than" in size.message
    assert _verdicts(results, "sse.framing.valid-lines") == {Verdict.FAIL}


@pytest.mark.slow  # 64 MiB through the parser
def test_endless_event_fails_size_bound() -> None:
    parser = SSEParser()
    line = b"data: " + b"y" * 1000 + b"\n"
    count = parser.max_event_bytes // len(line) + 2
    results = _judge(b.sse([(0.02, b":)\n"), (0.1, b"event: update\n" + line * count)]))
    (size,) = results["sse.framing.size-bounded"]
    assert size.verdict is Verdict.FAIL and "event longer than" in size.message


def test_unknown_field_on_the_last_line_is_read_from_the_parser() -> None:
    """The byte scan sees LF-terminated lines only; the parser reports the one ended by close."""
    results = _judge(b.sse([(0.02, b":)\n"), (0.1, b"event: delete\ndata: 1\n\nx-extra: 1\r")]))
    (valid,) = results["sse.framing.valid-lines"]
    assert valid.verdict is Verdict.FAIL and "unknown-field" in valid.message


def test_a_conformant_stream_reports_no_bound() -> None:
    status = json.dumps({"id": "1", "account": {"id": "2", "emojis": [{"a": [1]}]}})
    results = _judge(b.sse([(0.02, b":)\n"), (0.1, b.event("update", status))], context=UPDATE))
    for requirement in ("payload.json.depth-bounded", "payload.size-bounded"):
        assert requirement not in results
    assert "sse.framing.size-bounded" not in results
    assert _verdicts(results, "sse.framing.valid-lines") == {Verdict.PASS}


def test_bound_check_counts_nesting_not_brackets() -> None:
    """The bracket-count shortcut only skips the scan when the count alone proves the bound:
    many shallow brackets still pass, a deep nesting still fails, either side of the count."""
    from conformance.safejson import JSONTooDeep, check_bounds

    shallow = json.dumps([[1]] * (MAX_JSON_DEPTH + 5))  # many brackets, depth 2
    assert check_bounds(shallow) == shallow
    exact = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH  # count == bound: shortcut, passes
    assert check_bounds(exact) == exact
    over = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(JSONTooDeep):
        check_bounds(over)
