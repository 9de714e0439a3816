"""Server-Sent Events: a sans-I/O parser that reports what a conformance judge needs."""

from conformance.sse.events import Comment, Event, SSEItem, Violation
from conformance.sse.parser import (
    SSEParse,
    SSEParser,
    parse_sse_bytes,
    parse_sse_transcript,
    serialize_comment,
    serialize_event,
)

__all__ = [
    "Comment",
    "Event",
    "SSEItem",
    "SSEParse",
    "SSEParser",
    "Violation",
    "parse_sse_bytes",
    "parse_sse_transcript",
    "serialize_comment",
    "serialize_event",
]
