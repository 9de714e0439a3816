"""``replay`` reads transcripts from bug reports: untrusted input, never a traceback.

A malformed transcript is one line on stderr naming the file, the line and the problem, and
exit 2; only regular files are read (a FIFO named ``*.jsonl`` used to hang replay); a very long
line is refused at a bound instead of driving memory to 1.6 GiB. A hypothesis fuzz over mutated
transcripts proves no exception escapes ``replay_main``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.replay import load_path, replay_main
from conformance.transcript import reading
from conformance.transcript.model import Meta, Transcript
from conformance.transcript.reading import TranscriptFormatError


def _good_lines() -> list[str]:
    sse = Transcript(
        meta=Meta(
            id="sse-user",
            transport="sse",
            request={"method": "GET", "path": "/api/v1/streaming/user", "headers": []},
            context={"purpose": "stream", "stream": "user", "expect_events": ["update"]},
        )
    )
    sse.add(0.0, "connect")
    sse.add(
        0.01,
        "response-head",
        status=200,
        reason="OK",
        http_version="HTTP/1.1",
        headers=[["Content-Type", "text/event-stream"]],
    )
    sse.add(0.02, "body-chunk", data=b':)\nevent: update\ndata: {"id": "1"}\n\n')
    sse.add(0.5, "end", how="client-close", detail="")
    ws = Transcript(
        meta=Meta(
            id="ws-user",
            transport="ws",
            request={"method": "GET", "path": "/api/v1/streaming?stream=user", "headers": []},
            context={"purpose": "stream", "stream": "user"},
        )
    )
    ws.add(0.0, "connect")
    ws.add(0.01, "response-head", status=101, reason="", http_version="HTTP/1.1", headers=[])
    frame = json.dumps({"stream": ["user"], "event": "delete", "payload": "1"})
    ws.add(0.1, "ws-frame-recv", opcode="text", data=frame.encode())
    ws.add(0.2, "end", how="client-close", detail="")
    return (sse.dumps() + ws.dumps()).splitlines()


GOOD = _good_lines()


def _write(tmp_path: Path, lines: list[str], name: str = "t.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _replay(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = replay_main(path, report_dir=tmp_path / "report")
    captured = capsys.readouterr()
    return code, captured.err


def test_the_unmutated_file_replays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _replay(_write(tmp_path, GOOD), tmp_path, capsys)
    assert code in (0, 1) and "cannot read" not in err, err  # judged (the payload is a stub)


def _with(index: int, value: Any) -> list[str]:
    lines = list(GOOD)
    lines[index] = value if isinstance(value, str) else json.dumps(value)
    return lines


def _patched(index: int, **changes: Any) -> list[str]:
    obj = json.loads(GOOD[index])
    obj.update(changes)
    return _with(index, obj)


MALFORMED = {
    "array line": (_with(2, [1, 2]), 3, "expected a JSON object"),
    "null line": (_with(1, None), 2, "expected a JSON object"),
    "number line": (_with(3, 7), 4, "JSON object"),
    "not json": (_with(2, "{oops"), 3, "not JSON"),
    "NaN time": (_with(1, '{"t": NaN, "kind": "connect"}'), 2, "not JSON"),
    "string time": (_patched(1, t="0.0"), 2, "t"),
    "negative time": (_patched(1, t=-1), 2, "t"),
    "data is a number": (_patched(3, data=5), 4, "data"),
    "unknown kind": (_patched(1, kind="teleport"), 2, "kind"),
    "status as text": (_patched(2, status="200"), 3, "status"),
    "headers not pairs": (_patched(2, headers=[["a"]]), 3, "headers"),
    "meta transport": (_patched(0, transport="carrier-pigeon"), 1, "transport"),
    "meta id number": (_patched(0, id=5), 1, "id"),
    "meta context list": (_patched(0, context=[]), 1, "context"),
    "meta expect_events": (_patched(0, context={"expect_events": "update"}), 1, "expect_events"),
    "record first": (GOOD[1:], 1, "meta record"),
    "deep nesting": (_with(3, "[" * 100_000 + "]" * 100_000), 4, "nested more than"),
    "deep inside a record": (_patched(3, extra=json.loads("[" * 70 + "]" * 70)), 4, "nested"),
    "bad base64": (_with(3, '{"t": 0.1, "kind": "body-chunk", "data_b64": "@@@"}'), 4, "Error"),
    "end how": (_patched(4, how="exploded"), 5, "how"),
    "frame opcode": (_patched(8, opcode="smoke"), 9, "opcode"),
    "frame close code": (_patched(8, close_code="x"), 9, "close_code"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_transcript_is_one_line_and_exit_2(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines, line_number, needle = MALFORMED[name]
    path = _write(tmp_path, lines)
    code, err = _replay(path, tmp_path, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert f"{path}:{line_number}:" in err and needle in err, err
    assert "Traceback" not in err


def test_a_very_long_line_is_refused_at_the_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "MAX_LINE_BYTES", 4096)
    lines = _patched(3, data="x" * 10_000)
    code, err = _replay(_write(tmp_path, lines), tmp_path, capsys)
    assert code == 2 and ":4: line longer than 4096 bytes" in err, err


def test_an_empty_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _replay(_write(tmp_path, [""]), tmp_path, capsys)
    assert code == 2 and "t.jsonl" in err


@pytest.mark.timeout(30)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifos_are_never_opened(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    os.mkfifo(folder / "a-fifo.jsonl")
    _write(folder, GOOD, "b.jsonl")
    assert [t.meta.id for t in load_path(folder)] == ["sse-user", "ws-user"]
    assert "a-fifo.jsonl (not a regular file)" in capsys.readouterr().err
    code, err = _replay(folder / "a-fifo.jsonl", tmp_path, capsys)
    assert code == 2 and "is not a regular file" in err


def test_a_malformed_capture_file_is_named(
    captures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = captures_dir / "sse-01-user.jsonl"
    lines = source.read_text(encoding="utf-8").splitlines()
    obj = json.loads(lines[1])
    obj["t"] = "soon"  # the capture reader's own field
    lines[1] = json.dumps(obj)
    path = _write(tmp_path, lines, "sse-01-user.jsonl")
    code, err = _replay(path, tmp_path, capsys)
    assert code == 2 and "sse-01-user.jsonl" in err and "Traceback" not in err
    shutil.copy(source, tmp_path / "ok.jsonl")
    assert load_path(tmp_path / "ok.jsonl")


# -- fuzz -------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)


@st.composite
def mutated(draw: st.DrawFn) -> list[str]:
    """The good file with one to three mutations: a field replaced, a key dropped, a line
    replaced, duplicated, dropped or cut, or deep nesting inserted."""
    lines = list(GOOD)
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1)) if lines else 0
        action = draw(st.sampled_from(["field", "drop-key", "line", "dup", "drop", "cut", "deep"]))
        if not lines:
            lines = [json.dumps(draw(JSON_VALUES))]
            continue
        if action in ("field", "drop-key"):
            try:
                obj = json.loads(lines[index])
            except ValueError:
                continue
            if not isinstance(obj, dict) or not obj:
                continue
            key = draw(st.sampled_from(sorted(obj)))
            if action == "field":
                obj[key] = draw(JSON_VALUES)
            else:
                del obj[key]
            lines[index] = json.dumps(obj)
        elif action == "line":
            lines[index] = json.dumps(draw(JSON_VALUES))
        elif action == "dup":
            lines.insert(index, lines[index])
        elif action == "drop":
            del lines[index]
        elif action == "cut":
            lines[index] = lines[index][: draw(st.integers(0, len(lines[index])))]
        else:
            depth = draw(st.integers(60, 3000))
            lines[index] = "[" * depth + "]" * depth
    return lines


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=mutated())
def test_fuzz_no_mutated_transcript_raises(
    lines: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, lines)
    code = replay_main(path, report_dir=tmp_path / "report")
    err = capsys.readouterr().err
    assert code in (0, 1, 2)
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and str(path) in err, err


def test_format_error_names_file_and_line() -> None:
    exc = TranscriptFormatError("x.jsonl", 3, "bad")
    assert str(exc) == "x.jsonl:3: bad" and exc.line == 3
    assert str(TranscriptFormatError("x.jsonl", 0, "empty")) == "x.jsonl: empty"
