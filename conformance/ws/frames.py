"""Sans-I/O WebSocket frames: the bytes a server sent, split into frames exactly as they came.

The suite owns WebSocket frames the way it owns SSE bytes (``conformance/sse/parser.py``): a
strict client library fails the connection on the first protocol violation and hides the frame
that caused it, yet that frame is the evidence a judge needs. ``FrameScanner`` never rejects
anything: it reports each frame's header bits as sent (FIN, RSV1-3, the 4-bit opcode, the mask
bit, the announced length, the header bytes) with the payload unmasked, and judges decide what
breaks RFC 6455. ``MessageAssembler`` reassembles data messages from a text/binary frame and its
continuation frames (RFC 6455 §5.4), the unit every message-level check judges.

Both are bounded: a frame announcing more than ``max_frame_bytes`` is reported as ``oversized``
(header only) and the scanner stops; the assembler stops collecting a message at
``max_message_bytes`` or ``max_fragments`` and reports the limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CONTROL_OPCODES",
    "DATA_OPCODES",
    "OPCODE_NAMES",
    "AssembledMessage",
    "FrameScanner",
    "MessageAssembler",
    "RawFrame",
    "opcode_name",
]

#: RFC 6455 §5.2 opcodes; every other value (0x3-0x7, 0xB-0xF) is reserved.
OPCODE_NAMES: dict[int, str] = {
    0x0: "continuation",
    0x1: "text",
    0x2: "binary",
    0x8: "close",
    0x9: "ping",
    0xA: "pong",
}
DATA_OPCODES = frozenset({"text", "binary"})
CONTROL_OPCODES = frozenset({"close", "ping", "pong"})


def opcode_name(value: int) -> str:
    """The transcript name of an opcode: ``text`` ... or ``reserved`` (see ``opcode_value``)."""
    return OPCODE_NAMES.get(value, "reserved")


@dataclass(frozen=True, slots=True)
class RawFrame:
    """One frame as sent. ``payload`` is unmasked; empty when ``oversized`` (header only)."""

    fin: bool
    rsv: int  # RSV1 << 2 | RSV2 << 1 | RSV3
    opcode: int
    masked: bool
    length: int  # the payload length the header announced
    header: bytes
    payload: bytes
    oversized: bool = False

    @property
    def name(self) -> str:
        return opcode_name(self.opcode)


class FrameScanner:
    """Bytes in, frames out; never raises. Stops for good after an oversized frame."""

    def __init__(self, *, max_frame_bytes: int) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()
        self.stopped = False

    @property
    def pending(self) -> int:
        """Bytes received but not yet a whole frame (a frame cut by the connection's end)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[RawFrame]:
        if self.stopped:
            return []
        self._buffer += data
        out: list[RawFrame] = []
        while not self.stopped:
            frame = self._next()
            if frame is None:
                break
            out.append(frame)
        return out

    def _next(self) -> RawFrame | None:
        buf = self._buffer
        if len(buf) < 2:
            return None
        b0, b1 = buf[0], buf[1]
        masked = bool(b1 & 0x80)
        length = b1 & 0x7F
        offset = 2
        if length == 126:
            if len(buf) < 4:
                return None
            length = int.from_bytes(buf[2:4], "big")
            offset = 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length = int.from_bytes(buf[2:10], "big")
            offset = 10
        key_at = offset
        if masked:
            offset += 4
        if len(buf) < offset:
            return None
        header = bytes(buf[:offset])
        fin, rsv, opcode = bool(b0 & 0x80), (b0 >> 4) & 0x7, b0 & 0x0F
        if length > self.max_frame_bytes:
            self.stopped = True
            self._buffer = bytearray()
            return RawFrame(fin, rsv, opcode, masked, length, header, b"", oversized=True)
        if len(buf) < offset + length:
            return None
        payload = bytes(buf[offset : offset + length])
        if masked:
            key = buf[key_at : key_at + 4]
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        del buf[: offset + length]
        return RawFrame(fin, rsv, opcode, masked, length, header, payload)


@dataclass(slots=True)
class AssembledMessage:
    """A data message: its opcode (``text``/``binary``), bytes, and the frames it came in."""

    opcode: str
    data: bytes
    frames: int
    t_first: float
    t: float  # when the last fragment arrived: the message exists from then on
    complete: bool = True
    limit: str | None = None  # why collecting stopped early (bounded resources)


@dataclass(slots=True)
class _Partial:
    opcode: str
    parts: list[bytes] = field(default_factory=list)
    size: int = 0
    t_first: float = 0.0
    t_last: float = 0.0


class MessageAssembler:
    """Frames (by opcode name) in, whole messages out; RFC 6455 §5.4 reassembly.

    Fragmentation problems (a continuation with no message open, a new data frame inside a
    fragmented message) are listed in ``problems`` and the frame is treated as a client would
    best-effort (the stray continuation is dropped; the interrupted message is returned as
    incomplete). ``finish()`` returns a message still open when the connection ended.
    """

    def __init__(self, *, max_message_bytes: int, max_fragments: int) -> None:
        self.max_message_bytes = max_message_bytes
        self.max_fragments = max_fragments
        self._partial: _Partial | None = None
        self.problems: list[tuple[float, str]] = []
        self.fragmented = 0  # messages that came in more than one frame
        self.limit_hit: str | None = None

    @property
    def in_progress(self) -> bool:
        return self._partial is not None

    def feed(self, opcode: str, data: bytes, fin: bool, t: float) -> list[AssembledMessage]:
        if self.limit_hit is not None or opcode not in ("text", "binary", "continuation"):
            return []
        out: list[AssembledMessage] = []
        if opcode in DATA_OPCODES:
            if self._partial is not None:
                self.problems.append(
                    (t, f"a {opcode} frame arrived inside an unfinished fragmented message")
                )
                out.append(self._emit(complete=False))
            self._partial = _Partial(opcode, t_first=t)
        elif self._partial is None:
            self.problems.append((t, "a continuation frame arrived with no message to continue"))
            return out
        partial = self._partial
        partial.parts.append(data)
        partial.size += len(data)
        partial.t_last = t
        if partial.size > self.max_message_bytes:
            self.limit_hit = (
                f"message over {self.max_message_bytes} bytes "
                f"({partial.size} bytes in {len(partial.parts)} frames)"
            )
        elif len(partial.parts) > self.max_fragments:
            self.limit_hit = f"message in more than {self.max_fragments} frames"
        if self.limit_hit is not None:
            out.append(self._emit(complete=False, limit=self.limit_hit))
        elif fin:
            out.append(self._emit(complete=True))
        return out

    def finish(self) -> AssembledMessage | None:
        """The message still open at the end of the connection, if any (never completed)."""
        if self._partial is None:
            return None
        return self._emit(complete=False)

    def _emit(self, *, complete: bool, limit: str | None = None) -> AssembledMessage:
        partial = self._partial
        assert partial is not None
        self._partial = None
        if len(partial.parts) > 1:
            self.fragmented += 1
        return AssembledMessage(
            opcode=partial.opcode,
            data=b"".join(partial.parts),
            frames=len(partial.parts),
            t_first=partial.t_first,
            t=partial.t_last,
            complete=complete,
            limit=limit,
        )
