"""Run an SSE parser case three ways (whole, byte by byte, with trailing bytes), as h11 does.

Items are summarised to comparable tuples without ``t`` (which depends on the feed calls).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from conformance.sse.events import Comment, Event, SSEItem, Violation
from conformance.sse.parser import SSEParser

TRAILER = b":trailing\n"


def summary(items: Iterable[SSEItem], *, raw: bool = False) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for item in items:
        if isinstance(item, Event):
            row: tuple[Any, ...] = (
                "event",
                item.event,
                item.data,
                item.id,
                item.retry,
                item.has_data,
            )
        elif isinstance(item, Comment):
            row = ("comment", item.text)
        else:
            assert isinstance(item, Violation)
            row = ("violation", item.kind)
        out.append((*row, item.raw) if raw else row)
    return out


def run_chunks(chunks: Sequence[bytes], *, close: bool = True, **kwargs: Any) -> list[SSEItem]:
    parser = SSEParser(**kwargs)
    items: list[SSEItem] = []
    for i, piece in enumerate(chunks):
        items += parser.feed(piece, float(i))
    if close:
        items += parser.close(float(len(chunks)))
    return items


def three_ways(data: bytes, **kwargs: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Summaries (with raw) of: whole, byte by byte, and (if applicable) with a trailer."""
    results = {
        "whole": summary(run_chunks([data], **kwargs), raw=True),
        "bytewise": summary(
            run_chunks([data[i : i + 1] for i in range(len(data))], **kwargs), raw=True
        ),
    }
    return results


def with_trailer(data: bytes, **kwargs: Any) -> list[tuple[Any, ...]]:
    """Items of ``data`` followed by a trailing comment line, fed in one call."""
    return summary(run_chunks([data + TRAILER], **kwargs), raw=True)
