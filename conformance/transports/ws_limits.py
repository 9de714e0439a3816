"""Bounds on what one WebSocket connection may make the suite hold (issue 12: bounded resources).

A conformance client must survive the servers it exposes: a server that sends a huge message, a
message that never ends, or a flood of frames or pings is judged on what the recorder kept and on
how the recorder closed the connection, never allowed to exhaust memory or time. The values are
named constants so the hostile-server self-tests (and ``README.md``) can quote them; each limit,
when hit, leaves a ``note`` record with ``limit`` set to one of the ``LIMIT_*`` names and the
recorder fails the connection with the RFC 6455 §7.4.1 close code given here.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

#: Largest message (one frame or all fragments together) the recorder reassembles: 1 MiB, far
#: above any Mastodon event (a status with every field set is a few tens of KiB). Beyond it the
#: connection is failed with 1009 (message too big) and ``ws.frame.size-limit`` fails.
MAX_MESSAGE_BYTES = 1 << 20
#: Most frames one message may come in. GoToSocial fragments at 4096 bytes; 64-byte fragments of
#: a 1 MiB message are 16 384 frames, so only a never-ending message of tiny fragments hits it.
MAX_FRAGMENTS_PER_MESSAGE = 16_384
#: Most frames recorded on one connection (about 25 MiB of records at worst); a run's busiest
#: socket receives a few thousand even when every message comes in 64-byte fragments.
MAX_FRAMES_PER_CONNECTION = 50_000
#: Most server pings answered and recorded on one connection (Mastodon pings every 30 s).
MAX_PINGS_PER_CONNECTION = 1_000
#: Most server pings accepted within any one second.
MAX_PINGS_PER_SECOND = 50

LIMIT_MESSAGE_SIZE = "ws-message-size"
LIMIT_FRAGMENTS = "ws-fragments"
LIMIT_FRAMES = "ws-frame-flood"
LIMIT_PINGS = "ws-ping-flood"

#: Close code the recorder sends when a limit is hit (RFC 6455 §7.4.1).
CLOSE_CODES = {
    LIMIT_MESSAGE_SIZE: 1009,
    LIMIT_FRAGMENTS: 1009,
    LIMIT_FRAMES: 1008,
    LIMIT_PINGS: 1008,
}


@dataclass(frozen=True, slots=True)
class WSLimits:
    """The bounds one recorder enforces (defaults: the constants above)."""

    max_message_bytes: int = MAX_MESSAGE_BYTES
    max_fragments: int = MAX_FRAGMENTS_PER_MESSAGE
    max_frames: int = MAX_FRAMES_PER_CONNECTION
    max_pings: int = MAX_PINGS_PER_CONNECTION
    max_pings_per_second: int = MAX_PINGS_PER_SECOND


class FloodGuard:
    """Counts frames and pings of one connection; names the limit a new frame would break."""

    def __init__(self, limits: WSLimits) -> None:
        self.limits = limits
        self.frames = 0
        self.pings = 0
        self._recent_pings: collections.deque[float] = collections.deque()

    def admit(self, opcode: str, t: float) -> tuple[str, str] | None:
        """(limit name, detail) if this frame breaks a bound, else None (and it is counted)."""
        self.frames += 1
        if self.frames > self.limits.max_frames:
            return LIMIT_FRAMES, f"more than {self.limits.max_frames} frames on one connection"
        if opcode != "ping":
            return None
        self.pings += 1
        if self.pings > self.limits.max_pings:
            return LIMIT_PINGS, f"more than {self.limits.max_pings} pings on one connection"
        recent = self._recent_pings
        recent.append(t)
        while recent and recent[0] <= t - 1.0:
            recent.popleft()
        if len(recent) > self.limits.max_pings_per_second:
            return LIMIT_PINGS, (
                f"more than {self.limits.max_pings_per_second} pings within one second"
            )
        return None
