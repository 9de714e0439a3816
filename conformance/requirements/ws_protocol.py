"""WebSocket protocol (RFC 6455) requirements: the opening handshake and the frames themselves.

A client library fails the connection on each of these, so a server that breaks one has no
working WebSocket clients at all; all are MUST. They are judged from the recorded frames
(``conformance/ws/frames.py`` records every header bit as sent), and a connection that broke
one of them never passes a check of its later behaviour (``judge/ws_common.need_101``).
"""

from __future__ import annotations

from conformance.requirements import define

define(
    "ws.handshake.accept-valid",
    "MUST",
    source="spec",
    clause="RFC 6455 §4.2.2 item 5.4 (Sec-WebSocket-Accept = base64(SHA-1(key + GUID))); "
    "§4.1 (the client MUST fail the connection otherwise)",
    description="The 101 response carries the Sec-WebSocket-Accept derived from the client's key.",
)
define(
    "ws.frame.unmasked",
    "MUST",
    source="spec",
    clause="RFC 6455 §5.1 (a server MUST NOT mask any frames that it sends to the client)",
    description="No frame from the server has the mask bit set.",
)
define(
    "ws.frame.opcode-known",
    "MUST",
    source="spec",
    clause="RFC 6455 §5.2 (opcodes 0x3-0x7 and 0xB-0xF are reserved; an unknown opcode fails "
    "the connection)",
    description="Every frame from the server has a defined opcode.",
)
define(
    "ws.frame.rsv-zero",
    "MUST",
    source="spec",
    clause="RFC 6455 §5.2 (RSV1-3 MUST be 0 unless an extension defining them was negotiated)",
    description="No frame from the server sets a reserved bit (the suite negotiates no extension).",
)
define(
    "ws.frame.control",
    "MUST",
    source="spec",
    clause="RFC 6455 §5.5 (control frames MUST have a payload of 125 bytes or less and MUST NOT "
    "be fragmented)",
    description="Close, ping and pong frames carry at most 125 bytes and have FIN set.",
)
define(
    "ws.frame.fragmentation",
    "MUST",
    source="spec",
    clause="RFC 6455 §5.4 (a fragmented message is a first frame, continuation frames and a FIN "
    "frame; fragments of messages MUST NOT be interleaved)",
    description="Continuation frames only continue an open message, no data frame starts inside "
    "one, and the server does not end the connection in the middle of a message.",
)
define(
    "ws.frame.within-limits",
    "MUST",
    source="spec",
    clause="RFC 6455 §10.4 (implementations SHOULD limit frame and message size; beyond the limit "
    "the client closes with 1009, §7.4.1); the suite's limits: a message of at most 1 MiB in "
    "at most 16 384 frames, 50 000 frames and 1 000 pings (50 per second) per connection "
    "(conformance/transports/ws_limits.py)",
    description="No message, message fragment count, frame count or ping rate exceeds the "
    "documented per-connection limits (a never-ending or oversized message fails here).",
)
define(
    "ws.close.payload-valid",
    "MUST",
    source="spec",
    clause="RFC 6455 §5.5.1 (a close body is empty or a 2-byte code plus UTF-8 reason), "
    "§7.4.1-7.4.2 (1004-1006, 1015, 0-999 and 1016-2999 are not codes an endpoint may send)",
    description="A close frame from the server has an empty body, or a valid close code followed "
    "by a UTF-8 reason.",
)
define(
    "ws.frame.utf8",
    "MUST",
    source="spec",
    clause="RFC 6455 §5.6 (text payload is UTF-8), §8.1 (invalid UTF-8 fails the connection)",
    description="Every text message from the server (after reassembly) is valid UTF-8.",
)
define(
    "ws.frame.fragmented",
    "INFO",
    source="spec",
    clause="RFC 6455 §5.4 (a server may fragment a message; GoToSocial does above 4096 bytes)",
    description="Records that the server sends messages in several frames (legal; judged as "
    "reassembled messages).",
)
