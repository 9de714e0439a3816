"""What the SSE parser reports: events, comments and framing observations, as frozen values.

Every item carries the ``t`` of the feed call that completed it and the exact ``raw`` bytes of
the lines that made it (line endings included), so a judge can quote the wire in its evidence
and reason about timing (heartbeats) without re-parsing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """A dispatched event (WHATWG "dispatch the event"), or one Mastodon-style without data.

    ``has_data`` is False when an ``event:`` field arrived but no ``data:`` line did before the
    blank line; WHATWG would silently drop such a block, we report it so a judge can decide.
    ``id`` is the last-event-id buffer at dispatch (it persists across events, as in WHATWG),
    None if no valid ``id`` field was ever seen. ``retry`` is a valid ``retry`` value seen in
    this event's block, else None.
    """

    event: str
    data: str
    id: str | None
    retry: int | None
    t: float
    raw: bytes
    has_data: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Comment:
    """A ``:`` line: ``text`` is everything after the colon (Mastodon: ``)`` and ``thump``)."""

    text: str
    t: float
    raw: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """A framing observation a judge may weigh; the parser itself never fails on it.

    Kinds: ``invalid-utf8``, ``line-too-long``, ``event-too-long``, ``unterminated-event``,
    ``bom-not-at-start``, ``cr-line-ending``, ``unknown-field``, ``field-without-space``,
    ``id-contains-nul``, ``invalid-retry``; from a recorder's limit notes (see
    ``parser.RECORDER_VIOLATIONS``): ``too-many-events``, ``too-many-comments``,
    ``body-too-long`` and ``transcript-gap`` (bytes not kept; head and tail not glued).
    """

    kind: str
    detail: str
    t: float
    raw: bytes


SSEItem = Event | Comment | Violation

__all__ = ["Comment", "Event", "SSEItem", "Violation"]
