"""Bounds of the SSE parse: what a hostile stream may cost, and the violations that say so.

The live recorder (``transports.sse``, via ``transports._shared.Limits``) and the parse of a saved
transcript (``parser.parse_sse_transcript``) use the same numbers, so judging a transcript offline
sees the same cut as the live run did.
"""

from __future__ import annotations

from typing import Any

from conformance.sse.events import Comment, Event, SSEItem, Violation

#: Bounds used on recorded transcripts (the live recorder uses the same, ``transports.Limits``).
DEFAULT_MAX_LINE_BYTES = 512 << 10
DEFAULT_MAX_EVENT_BYTES = 1 << 20
#: Events and comments judged per transcript (and kept live): a flood is cut, not judged whole.
DEFAULT_MAX_EVENTS = 2000
DEFAULT_MAX_COMMENTS = 5000
#: A violation about an oversized line or event keeps this many of its first bytes as evidence.
EVIDENCE_BYTES = 1024
#: Kinds a recorder reports in ``note`` records (``limit`` field) when it closed the
#: connection at a limit or left a gap in the kept body; ``parse_sse_transcript`` turns them
#: back into violations, so judging a saved transcript sees what the live parser saw.
RECORDER_VIOLATIONS = frozenset(
    {
        "line-too-long",
        "event-too-long",
        "too-many-events",
        "too-many-comments",
        "body-too-long",
        "transcript-gap",
    }
)


class TranscriptCounter:
    """Keeps at most ``DEFAULT_MAX_EVENTS`` events and ``DEFAULT_MAX_COMMENTS`` comments of a
    transcript; the first one beyond is reported once (``too-many-events``/``-comments``)."""

    def __init__(self) -> None:
        self.events = 0
        self.comments = 0

    def bounded(self, items: list[SSEItem], t: float) -> list[SSEItem]:
        out: list[SSEItem] = []
        for item in items:
            if isinstance(item, Event):
                self.events += 1
                if self.events > DEFAULT_MAX_EVENTS:
                    if self.events == DEFAULT_MAX_EVENTS + 1:
                        out.append(_too_many("events", DEFAULT_MAX_EVENTS, t))
                    continue
            elif isinstance(item, Comment):
                self.comments += 1
                if self.comments > DEFAULT_MAX_COMMENTS:
                    if self.comments == DEFAULT_MAX_COMMENTS + 1:
                        out.append(_too_many("comments", DEFAULT_MAX_COMMENTS, t))
                    continue
            out.append(item)
        return out


def _too_many(what: str, limit: int, t: float) -> Violation:
    return Violation(
        kind=f"too-many-{what}",
        detail=f"more than {limit} {what}; the rest not judged",
        t=t,
        raw=b"",
    )


def note_items(parser: Any, record: Any, items: list[SSEItem]) -> list[SSEItem]:
    text = str(record.fields.get("text", ""))
    if isinstance(record.fields.get("gap_bytes"), int):
        return parser.gap(record.t, text)
    kind = record.fields.get("limit")
    if kind not in RECORDER_VIOLATIONS:
        return []
    if any(isinstance(i, Violation) and i.kind == kind for i in items):
        return []  # the parse itself already found it in what was kept
    return [Violation(kind=str(kind), detail=text, t=record.t, raw=b"")]
