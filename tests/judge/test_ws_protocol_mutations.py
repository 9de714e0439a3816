"""RFC 6455 requirements offline: one mutated transcript per id fails it, Mastodon's captures pass,
and messages are judged after reassembly (a fragmented message is one message, never a failure).

The live half (each violation sent by a raw server on a real socket) is
``tests/transports/test_ws_protocol_violations.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import transcript_builders as b

from conformance.judge import judge_transcript
from conformance.transcript.captures import load_capture
from conformance.transcript.model import Record, Transcript
from conformance.verdicts import Verdict

CAPTURES = Path(__file__).resolve().parents[2] / "../shared/captures/mastodon-4.8.0-alpha.1"
EVENT = b.message("user", "delete", "1")
KEY = [["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="], ["Sec-WebSocket-Protocol", "tok"]]
GOOD_ACCEPT = ["Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]


def _recv(
    t: float, opcode: str, data: bytes | str, **extra: object
) -> tuple[float, str, str, object]:
    raw = data.encode() if isinstance(data, str) else data
    return (t, "recv", opcode, (raw, extra))


def _split(text: str, size: int, t: float = 0.1) -> list[tuple[float, str, str, object]]:
    parts = [text[i : i + size] for i in range(0, len(text), size)]
    return [
        _recv(t + i * 0.001, "text" if i == 0 else "continuation", p, fin=i == len(parts) - 1)
        for i, p in enumerate(parts)
    ]


def _accept(value: str) -> Transcript:
    headers = [
        ["Upgrade", "websocket"],
        ["Sec-WebSocket-Accept", value],
        ["Sec-WebSocket-Protocol", "tok"],
    ]
    return b.ws(request_headers=KEY, response_headers=headers)


MUTANTS: dict[str, tuple[Callable[[], Transcript], str]] = {
    "ws.handshake.accept-valid": (lambda: _accept("AAAA"), "observed 'AAAA'"),
    "ws.frame.unmasked": (lambda: b.ws([_recv(0.1, "text", EVENT, masked=True)]), "masked"),
    "ws.frame.opcode-known": (
        lambda: b.ws([_recv(0.1, "reserved", b"", opcode_value=3)]),
        "reserved opcode 3",
    ),
    "ws.frame.rsv-zero": (lambda: b.ws([_recv(0.1, "text", EVENT, rsv=4)]), "rsv=4"),
    "ws.frame.control": (lambda: b.ws([_recv(0.1, "ping", b"p" * 126)]), "126 bytes"),
    "ws.frame.fragmentation": (
        lambda: b.ws([_recv(0.1, "continuation", b"x", fin=True)]),
        "no message to continue",
    ),
    "ws.frame.within-limits": (
        lambda: b.ws([_recv(0.1, "text", EVENT), (0.2, "recv", "ping", b"")], end="eof"),
        "",  # replaced below: the limit note is what the recorder leaves
    ),
    "ws.close.payload-valid": (
        lambda: b.ws([_recv(0.1, "close", b"\x03\xed", close_code=1005, close_reason="")]),
        "observed 1005",
    ),
    "ws.frame.utf8": (lambda: b.ws([_recv(0.1, "text", b'{"a":"\xff"}')]), "expected UTF-8"),
}


def _with_limit_note() -> Transcript:
    tr = b.ws([_recv(0.1, "text", EVENT)])
    tr.records.insert(
        -1,
        Record(
            t=0.15, kind="note", fields={"text": "recording stopped: x", "limit": "ws-ping-flood"}
        ),
    )
    return tr


MUTANTS["ws.frame.within-limits"] = (_with_limit_note, "recording stopped")


def _results(tr: Transcript, requirement: str) -> list[tuple[Verdict, str]]:
    return [(r.verdict, r.message) for r in judge_transcript(tr) if r.requirement == requirement]


@pytest.mark.parametrize("requirement", sorted(MUTANTS))
def test_mutant_fails_its_requirement(requirement: str) -> None:
    build, needle = MUTANTS[requirement]
    results = _results(build(), requirement)
    assert any(v is Verdict.FAIL and needle in m for v, m in results), results


def test_the_conformant_baseline_passes_every_protocol_requirement() -> None:
    tr = _accept(GOOD_ACCEPT[1])
    for requirement in MUTANTS:
        assert [v for v, _ in _results(tr, requirement)] == [Verdict.PASS], requirement


def test_a_message_in_64_byte_fragments_is_one_message() -> None:
    long_event = b.message("user", "update", '{"id":"1","content":"' + "x" * 300 + '"}')
    tr = b.ws(_split(long_event, 64))
    results = {r.requirement: r for r in judge_transcript(tr)}
    for requirement in (
        "ws.frame.json",
        "ws.message.shape",
        "ws.frame.fragmentation",
        "ws.frame.text",
    ):
        assert results[requirement].verdict is Verdict.PASS, results[requirement].message
    assert results["ws.frame.fragmented"].verdict is Verdict.INFO
    assert "1 of 1" in results["ws.frame.fragmented"].message


def test_a_message_cut_by_the_server_is_a_fragmentation_failure() -> None:
    tr = b.ws(_split(EVENT, 8)[:-1], end="eof")
    assert any(
        v is Verdict.FAIL and "without FIN" in m for v, m in _results(tr, "ws.frame.fragmentation")
    )


def test_a_message_open_when_we_closed_is_not_a_failure() -> None:
    tr = b.ws(_split(EVENT, 8)[:-1], end="client-close")
    assert [v for v, _ in _results(tr, "ws.frame.fragmentation")] == [Verdict.PASS]


@pytest.mark.skipif(not CAPTURES.is_dir(), reason="needs ../shared/captures")
def test_mastodons_accept_passes_and_a_changed_accept_fails() -> None:
    capture = load_capture(CAPTURES / "ws-01-user-subprotocol.jsonl")
    assert [v for v, _ in _results(capture, "ws.handshake.accept-valid")] == [Verdict.PASS]
    head = capture.head
    assert head is not None
    headers = [
        [k, "x" + v if k.lower() == "sec-websocket-accept" else v]
        for k, v in head.fields["headers"]
    ]
    index = capture.records.index(head)
    capture.records[index] = replace(head, fields={**head.fields, "headers": headers})
    results = _results(capture, "ws.handshake.accept-valid")
    assert any(v is Verdict.FAIL for v, _ in results), results
    token = [r for r in judge_transcript(capture) if r.requirement == "auth.ws.token-subprotocol"]
    assert token and all(r.verdict is not Verdict.PASS for r in token)
