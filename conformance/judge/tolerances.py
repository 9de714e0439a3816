"""Every timing judgement's margin: one named constant each, scaled by ``--timeout-multiplier``.

A judge never compares a measured time with a bare number. What a conformant server needs is
milliseconds on loopback; what the suite allows is a documented constant, times the run's
``--timeout-multiplier`` (a slow network, a loaded CI machine, a proxy splitting chunks), so one
option widens every window at once, the same as it widens the session's waits. The multiplier a
recording was judged with travels with it: per-transcript checks read
``context["timeout_multiplier"]`` (set by the session when it opens the connection), run-level
checks ``RunContext.timeout_multiplier`` (saved in the stimulus log), so a replay judges with
exactly the live run's margins. Recordings that name none (the captures) use 1.

| constant | check | what it allows |
|---|---|---|
| ``heartbeat.HEARTBEAT_TOLERANCE_S`` | ``sse.heartbeat.*`` | silence beyond the heartbeat timeout |
| ``FIRST_BYTE_TOLERANCE_S`` | ``http.sse.first-byte-prompt`` | first byte beyond that timeout |
| ``PONG_WINDOW_S`` | ``ws.ping.pong`` | our ping to its pong (the session waits as long) |
| ``SERVER_PING_TOLERANCE_S`` | ``ws.ping.server-keepalive`` | a server ping beyond the window |
| ``REVOKE_END_S`` | ``delivery.token-revoke.ends-stream`` | revocation to the stream's end |
| ``DELIVERY_DEADLINE_S`` | ``delivery.latency.*``, ``*.arrives`` | stimulus to arrival |

``ws.ping.no-pong-terminated`` and ``ws.close.binary-1003`` are INFO notes that compare no time.
"""

from __future__ import annotations

from typing import Any

#: ``http.sse.first-byte-prompt``: a body byte is due within the heartbeat timeout; this much
#: more absorbs a client that reads late on a loaded machine.
FIRST_BYTE_TOLERANCE_S = 1.0
#: ``ws.ping.pong``: RFC 6455 asks for a pong "as soon as practical"; the session waits this long
#: for it, so a later pong (or none) is the violation.
PONG_WINDOW_S = 5.0
#: ``ws.ping.server-keepalive``: beyond the ping window (``--ping-timeout``: Mastodon's 30 s timer
#: plus grace) a server ping may come this much later before the gap is a violation.
SERVER_PING_TOLERANCE_S = 1.0
#: ``delivery.token-revoke.ends-stream``: Mastodon ends the stream the moment Redis delivers the
#: ``kill``; the session waits this long after the revocation for the end.
REVOKE_END_S = 5.0
#: ``delivery.latency.within-deadline``: Mastodon relays a Redis message at once and its fan-out
#: jobs run within a second on an idle instance. Half the session's 10 s arrival wait, so an
#: event late by up to as much again is still recorded while the session waits for it (a later
#: one arrives during the following steps or the keep-alive hold, if at all).
DELIVERY_DEADLINE_S = 5.0


def multiplier_of(context: dict[str, Any] | Any) -> float:
    """The ``--timeout-multiplier`` a transcript's context records (1 when it names none)."""
    value = context.get("timeout_multiplier") if isinstance(context, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return 1.0


def scaled(base_s: float, multiplier: float | None) -> float:
    """``base_s`` x the multiplier (1 for None or a non-positive value)."""
    if multiplier is None or multiplier <= 0:
        return base_s
    return base_s * multiplier


__all__ = [
    "DELIVERY_DEADLINE_S",
    "FIRST_BYTE_TOLERANCE_S",
    "PONG_WINDOW_S",
    "REVOKE_END_S",
    "SERVER_PING_TOLERANCE_S",
    "multiplier_of",
    "scaled",
]
