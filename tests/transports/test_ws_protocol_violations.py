"""Each RFC 6455 violation, sent by a raw server on a real socket, fails by its own requirement id,
and the connection's later-behaviour checks (the token source, message shape) do not pass on it.

The recorder owns the frames (``conformance/ws/frames.py``), so the violating frame is in the
transcript even though the strict client fails the connection on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from raw_ws_server import EVENT, Script, frame, serve, switching, text
from timing import scaled

from conformance.judge import judge_transcript
from conformance.transcript.model import Meta, Record, Transcript
from conformance.transports.ws import WSLimits, WSRecorder
from conformance.transports.ws_limits import MAX_MESSAGE_BYTES
from conformance.verdicts import Verdict

TOKEN = "rawWsTokenThatMustNeverBeWritten000001"
WAIT_S = 5.0


def _meta() -> Meta:
    context = {"purpose": "stream", "stream": "user", "auth": "header", "case": "raw"}
    return Meta(id="raw", transport="ws", request={}, context=context)


async def _record(script: Script, limits: WSLimits | None = None) -> Transcript:
    async with serve(script) as url:
        rec = WSRecorder(
            url + "?stream=user",
            token=TOKEN,
            token_via="header",
            meta=_meta(),
            open_timeout_s=WAIT_S,
            close_timeout_s=1.0,
            limits=limits,
        )
        await rec.start()

        def settled(records: Sequence[Record]) -> bool:
            """The strict client reacted: it noted a failure, sent a close, or the socket ended."""
            return any(
                r.kind in ("note", "end")
                or (r.kind == "ws-frame-send" and r.fields["opcode"] == "close")
                for r in records
            )

        if not rec.ended:
            await rec.wait_for_records(settled, scaled(1.0))
        await rec.close()
        return rec.transcript


def _verdicts(transcript: Transcript, requirement: str) -> list[Verdict]:
    return [r.verdict for r in judge_transcript(transcript) if r.requirement == requirement]


def _message(transcript: Transcript, requirement: str) -> str:
    return " | ".join(
        r.message for r in judge_transcript(transcript) if r.requirement == requirement
    )


BIG = 2 << 20
CASES: dict[str, tuple[str, Script, WSLimits | None]] = {
    "accept-mismatch": (
        "ws.handshake.accept-valid",
        Script(
            response=lambda key: switching(key, accept="AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            frames=text(EVENT),
        ),
        None,
    ),
    "masked-frame": (
        "ws.frame.unmasked",
        Script(frames=text(EVENT, mask=b"\x01\x02\x03\x04")),
        None,
    ),
    "reserved-opcode": (
        "ws.frame.opcode-known",
        Script(frames=text(EVENT) + frame(0x3, b"x")),
        None,
    ),
    "reserved-opcode-control": ("ws.frame.opcode-known", Script(frames=frame(0xB, b"")), None),
    "rsv-bit": ("ws.frame.rsv-zero", Script(frames=text(EVENT, rsv=4)), None),
    "long-ping": ("ws.frame.control", Script(frames=frame(0x9, b"p" * 126)), None),
    "fragmented-ping": ("ws.frame.control", Script(frames=frame(0x9, b"p", fin=False)), None),
    "orphan-continuation": ("ws.frame.fragmentation", Script(frames=frame(0x0, b"x")), None),
    "interleaved-message": (
        "ws.frame.fragmentation",
        Script(frames=text(EVENT[:10], fin=False) + text(EVENT)),
        None,
    ),
    "never-ending-message": (
        "ws.frame.fragmentation",
        Script(frames=text(EVENT[:10], fin=False) + frame(0x0, b"a", fin=False), close_after=True),
        None,
    ),
    "oversized-message": (
        "ws.frame.within-limits",
        Script(frames=frame(0x1, b"", length=BIG)),
        None,
    ),
    "too-many-fragments": (
        "ws.frame.within-limits",
        Script(frames=text("[", fin=False) + frame(0x0, b" ", fin=False) * 40),
        WSLimits(max_fragments=16),
    ),
    "ping-flood": (
        "ws.frame.within-limits",
        Script(frames=frame(0x9, b"") * 40),
        WSLimits(max_pings_per_second=10),
    ),
    "close-code-1005": (
        "ws.close.payload-valid",
        Script(frames=frame(0x8, (1005).to_bytes(2, "big"))),
        None,
    ),
    "close-one-byte": ("ws.close.payload-valid", Script(frames=frame(0x8, b"\x03")), None),
    "close-reason-not-utf8": (
        "ws.close.payload-valid",
        Script(frames=frame(0x8, (1000).to_bytes(2, "big") + b"\xff")),
        None,
    ),
    "text-not-utf8": (
        "ws.frame.utf8",
        Script(frames=text(b'{"stream":["user"],"x":"\xff"}')),
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_violation_fails_by_its_id_and_later_checks_do_not_pass(
    case: str, assert_schema_valid: Callable[[Transcript], None]
) -> None:
    requirement, script, limits = CASES[case]
    transcript = asyncio.run(_record(script, limits))
    assert_schema_valid(transcript)
    assert Verdict.FAIL in _verdicts(transcript, requirement), _message(transcript, requirement)
    for later in ("auth.ws.token-header", "ws.frame.json", "ws.message.shape"):
        assert Verdict.PASS not in _verdicts(transcript, later), (
            later,
            _message(transcript, later),
        )
    frames: list[Record] = list(transcript.of_kind("ws-frame-recv"))
    if requirement != "ws.handshake.accept-valid":
        assert frames, "the violating frame is recorded"
        assert all("header_hex" in r.fields and "masked" in r.fields for r in frames)
    assert TOKEN not in transcript.dumps()


def test_a_conformant_raw_server_passes_every_protocol_check() -> None:
    frames = (
        text(EVENT[:20], fin=False)
        + frame(0x9, b"hb")  # a control frame between fragments is legal (§5.4)
        + frame(0x0, EVENT[20:].encode())
        + frame(0x8, (1000).to_bytes(2, "big") + b"bye")
    )
    transcript = asyncio.run(_record(Script(frames=frames)))
    results = judge_transcript(transcript)
    protocol = [
        r
        for r in results
        if r.requirement.startswith(("ws.frame.", "ws.close.payload", "ws.handshake.accept"))
    ]
    assert protocol
    assert all(r.verdict in (Verdict.PASS, Verdict.INFO) for r in protocol), [
        (r.id, r.verdict, r.message) for r in protocol
    ]
    assert _verdicts(transcript, "auth.ws.token-header") == [Verdict.PASS]
    assert _verdicts(transcript, "ws.frame.json") == [Verdict.PASS]
    assert _verdicts(transcript, "ws.frame.fragmented") == [Verdict.INFO]
    pongs = [r for r in transcript.of_kind("ws-frame-send") if r.fields["opcode"] == "pong"]
    assert pongs and pongs[0].data == b"hb"


def test_every_protocol_requirement_has_a_violating_server() -> None:
    from conformance.requirements import REGISTRY
    from conformance.verdicts import Level

    text_of = (Path(__file__).parents[2] / "conformance/requirements/ws_protocol.py").read_text()
    mine = {rid for rid in REGISTRY if f'"{rid}"' in text_of}
    musts = {rid for rid in mine if REGISTRY[rid].level is Level.MUST}
    assert len(musts) == 9
    assert musts == {requirement for requirement, _, _ in CASES.values()}


def test_default_limits_stop_a_never_ending_message_and_close_it() -> None:
    chunk = frame(0x0, b"x" * 4096, fin=False)
    count = MAX_MESSAGE_BYTES // 4096 + 8  # just past the 1 MiB limit
    transcript = asyncio.run(_record(Script(frames=text("[", fin=False) + chunk * count)))
    kept = sum(len(r.data) for r in transcript.of_kind("ws-frame-recv"))
    assert kept <= MAX_MESSAGE_BYTES + 8192, "recording stops at the limit"
    notes = [r for r in transcript.of_kind("note") if r.fields.get("limit") == "ws-message-size"]
    assert notes, [r.fields for r in transcript.of_kind("note")]
    closes = [r for r in transcript.of_kind("ws-frame-send") if r.fields["opcode"] == "close"]
    assert closes and closes[0].fields["close_code"] == 1009
    assert Verdict.FAIL in _verdicts(transcript, "ws.frame.within-limits")
