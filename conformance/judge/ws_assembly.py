"""Recorded WebSocket frames reassembled into messages, the unit message-level checks judge.

RFC 6455 §5.4 lets a server send one message as a text frame plus continuation frames
(GoToSocial does for messages over 4096 bytes; proxies may re-fragment). The transcript keeps the
frames as evidence; judges read messages. Live runs and replay read the same records, so both
reassemble here, with the same ``conformance.ws.frames.MessageAssembler`` the recorder uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.transcript.model import Record
from conformance.transports.ws_limits import MAX_FRAGMENTS_PER_MESSAGE, MAX_MESSAGE_BYTES
from conformance.ws.frames import AssembledMessage, MessageAssembler


@dataclass(slots=True)
class WSAssembly:
    """Messages and control frames in order, plus what reassembly noticed."""

    items: list[Record] = field(default_factory=list)
    #: messages that came in more than one frame
    fragmented: int = 0
    #: largest number of frames one message came in
    most_frames: int = 1
    #: (t, problem) for continuation frames out of place or interleaved data frames
    problems: list[tuple[float, str]] = field(default_factory=list)
    #: messages never finished (the connection ended or a new message began first)
    unfinished: list[AssembledMessage] = field(default_factory=list)
    #: the reassembly limit a message broke, if any
    limit: str | None = None


def _as_record(message: AssembledMessage) -> Record:
    return Record(
        t=message.t,
        kind="ws-frame-recv",
        fields={
            "opcode": message.opcode,
            "data": message.data,
            "fin": True,
            "frames": message.frames,
            "t_first": message.t_first,
        },
    )


def assemble_ws(frames: list[Record]) -> WSAssembly:
    """Reassemble received frames; control frames pass through in place."""
    out = WSAssembly()
    assembler = MessageAssembler(
        max_message_bytes=MAX_MESSAGE_BYTES, max_fragments=MAX_FRAGMENTS_PER_MESSAGE
    )
    for record in frames:
        opcode = record.fields.get("opcode")
        if opcode in ("text", "binary", "continuation"):
            fin = record.fields.get("fin")
            for message in assembler.feed(str(opcode), record.data, fin is not False, record.t):
                if message.complete:
                    out.items.append(_as_record(message))
                    out.most_frames = max(out.most_frames, message.frames)
                else:
                    out.unfinished.append(message)
        else:
            out.items.append(record)
    last = assembler.finish()
    if last is not None:
        out.unfinished.append(last)
    out.fragmented = assembler.fragmented
    out.problems = list(assembler.problems)
    out.limit = assembler.limit_hit
    return out
