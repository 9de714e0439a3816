"""A token a server splits across WebSocket fragments never reaches the transcript whole or in
halves (issue: redaction that cannot be split). Frames are redacted one by one as they arrive, so
the recorder holds a fragmented message's frames until its FIN and masks any secret that spans a
fragment boundary (``transports/ws_hold.py``, ``Redactor.mask_across``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from raw_ws_server import Script, frame, serve, text
from timing import scaled

from conformance.redact import Redactor
from conformance.transcript.model import Meta, Record, Transcript
from conformance.transports.ws import WSRecorder

TOKEN = "splitTokenABCDEFGHIJKLMNOP0123456789"


def _fragmented(cut: int) -> bytes:
    body = f'{{"stream":["user"],"event":"update","payload":"{TOKEN}"}}'.encode()
    at = body.index(TOKEN.encode()) + cut
    return text(body[:at], fin=False) + frame(0x9, b"") + frame(0x0, body[at:])


async def _record(script: Script) -> Transcript:
    async with serve(script) as url:
        rec = WSRecorder(
            url + "?stream=user",
            token=TOKEN,
            token_via="header",
            meta=Meta(id="split", transport="ws", request={}, context={"purpose": "stream"}),
            open_timeout_s=10.0,
            close_timeout_s=0.05,
        )
        await rec.start()

        def got_message(records: Sequence[Record]) -> bool:
            return sum(r.kind == "ws-frame-recv" for r in records) >= 3

        await rec.wait_for_records(got_message, scaled(10.0))
        await rec.close()
        return rec.transcript


def test_token_split_at_every_offset_across_fragments_is_never_recorded() -> None:
    for cut in range(1, len(TOKEN)):
        transcript = asyncio.run(_record(Script(frames=_fragmented(cut))))
        frames = list(transcript.of_kind("ws-frame-recv"))
        assert [r.fields["opcode"] for r in frames[:3]] == ["text", "ping", "continuation"]
        joined = b"".join(r.data for r in frames if r.fields["opcode"] != "ping")
        assert TOKEN.encode() not in joined, cut
        for part in (TOKEN[:cut], TOKEN[cut:]):
            if len(part) >= 8:  # a long half is itself evidence of the token
                assert part.encode() not in joined, (cut, part)
        # each frame keeps its true length: the mask replaces bytes one for one
        assert [len(r.data) for r in frames[:3]] == [r.fields["length"] for r in frames[:3]]


def test_mask_across_keeps_lengths_and_leaves_whole_parts_alone() -> None:
    redactor = Redactor(["secret-token-123"])
    parts = [b'{"a":"secret-', b"token-123", b'"}']
    masked = redactor.mask_across(parts)
    assert [len(p) for p in masked] == [len(p) for p in parts]
    assert b"secret" not in b"".join(masked) and b"token-123" not in b"".join(masked)
    assert redactor.mask_across([b"nothing", b"here"]) == [b"nothing", b"here"]
