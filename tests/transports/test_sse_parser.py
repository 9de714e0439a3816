"""The SSE parser against table-driven cases, each run whole, byte by byte and with trailing bytes.

Expected rows are ``("event", type, data, id, retry, has_data)``, ``("comment", text)`` or
``("violation", kind)``, in arrival order, after ``close``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sse_case_runner import TRAILER, run_chunks, summary, three_ways, with_trailer

from conformance.sse.events import Comment, Event, Violation
from conformance.sse.parser import (
    SSEParser,
    parse_sse_bytes,
    parse_sse_transcript,
    serialize_comment,
    serialize_event,
)
from conformance.transcript.model import Meta, Transcript

E = "event"
C = "comment"
V = "violation"

CASES: list[tuple[str, bytes, list[tuple[Any, ...]]]] = [
    ("simple", b"event: update\ndata: {}\n\n", [(E, "update", "{}", None, None, True)]),
    ("default-type", b"data: x\n\n", [(E, "message", "x", None, None, True)]),
    ("empty-event-type", b"event:\ndata: x\n\n", [(E, "message", "x", None, None, True)]),
    (
        "no-space-after-colon",
        b"data:x\n\n",
        [(V, "field-without-space"), (E, "message", "x", None, None, True)],
    ),
    ("one-space-stripped", b"data:  x\n\n", [(E, "message", " x", None, None, True)]),
    ("no-colon-is-empty-value", b"data\n\n", [(E, "message", "", None, None, True)]),
    ("multi-line-data", b"data: a\ndata: b\n\n", [(E, "message", "a\nb", None, None, True)]),
    ("comment", b":)\n", [(C, ")")]),
    ("heartbeat-blank-line", b":thump\n\n", [(C, "thump")]),
    ("comment-keeps-space", b": hi\n", [(C, " hi")]),
    (
        "id-persists",
        b"id: 1\ndata: a\n\ndata: b\n\n",
        [(E, "message", "a", "1", None, True), (E, "message", "b", "1", None, True)],
    ),
    (
        "id-with-nul-ignored",
        b"id: 1\ndata: a\n\nid: 2\x00\ndata: b\n\n",
        [
            (E, "message", "a", "1", None, True),
            (V, "id-contains-nul"),
            (E, "message", "b", "1", None, True),
        ],
    ),
    ("retry-digits", b"retry: 1000\ndata: a\n\n", [(E, "message", "a", None, 1000, True)]),
    (
        "retry-not-digits",
        b"retry: 1000x\ndata: a\n\n",
        [(V, "invalid-retry"), (E, "message", "a", None, None, True)],
    ),
    (
        "unknown-field",
        b"foo: bar\ndata: a\n\n",
        [(V, "unknown-field"), (E, "message", "a", None, None, True)],
    ),
    (
        "event-without-data",
        b"event: filters_changed\n\n",
        [(E, "filters_changed", "", None, None, False)],
    ),
    ("id-only-block-not-dispatched", b"id: 5\n\n", []),
    ("blank-lines-only", b"\n\n\r\n\r", [(V, "cr-line-ending"), (V, "cr-line-ending")]),
    ("bom-at-start", b"\xef\xbb\xbfdata: a\n\n", [(E, "message", "a", None, None, True)]),
    (
        "bom-later",
        b"data: a\n\n\xef\xbb\xbfdata: b\n\n",
        [(E, "message", "a", None, None, True), (V, "bom-not-at-start")],
    ),
    (
        "bom-twice-at-start",
        b"\xef\xbb\xbf\xef\xbb\xbfdata: b\n\ndata: c\n\n",
        [(V, "bom-not-at-start"), (E, "message", "c", None, None, True)],
    ),
    (
        "crlf",
        b"data: a\r\n\r\n",
        [(V, "cr-line-ending"), (E, "message", "a", None, None, True)],
    ),
    (
        "cr",
        b"data: a\rdata: b\r\r",
        [(V, "cr-line-ending"), (E, "message", "a\nb", None, None, True)],
    ),
    (
        "unterminated-at-close",
        b"event: update\ndata: {}\n",
        [(V, "unterminated-event")],
    ),
    ("partial-line-at-close", b"data: x", [(V, "unterminated-event")]),
    (
        "invalid-utf8",
        b"data: \xff\xfe\n\n",
        [(V, "invalid-utf8"), (E, "message", "\ufffd\ufffd", None, None, True)],
    ),
    (
        "nul-in-data",
        b"data:\x00\n\n",
        [(V, "field-without-space"), (E, "message", "\x00", None, None, True)],
    ),
    (
        "comment-between-data",
        b"data: 1\n:c\ndata: 2\n\n",
        [(C, "c"), (E, "message", "1\n2", None, None, True)],
    ),
    (
        "space-before-field-name",
        b" data: x\ndata: y\n\n",
        [(V, "unknown-field"), (E, "message", "y", None, None, True)],
    ),
]


def _strip_raw(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [row[:-1] for row in rows]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_case_whole_bytewise_and_trailing(data: bytes, expected: list[tuple[Any, ...]]) -> None:
    """Every case parses the same whole and byte by byte; trailing bytes do not change it."""
    results = three_ways(data)
    assert _strip_raw(results["whole"]) == expected
    assert results["bytewise"] == results["whole"]
    if not any(row[:2] == (V, "unterminated-event") for row in expected):
        trailed = with_trailer(data)
        assert trailed[: len(results["whole"])] == results["whole"]
        assert trailed[len(results["whole"]) :] == [(C, "trailing", TRAILER)]


def test_crlf_split_across_feeds_gives_no_extra_line_or_early_dispatch() -> None:
    """A CR at the end of one read and LF at the start of the next are one line ending."""
    parser = SSEParser()
    first = parser.feed(b"data: a\r", 1.0)
    second = parser.feed(b"\ndata: b\r\n\r", 2.0)
    third = parser.feed(b"\n:after\n", 3.0)
    events = [i for i in first + second + third if isinstance(i, Event)]
    assert [e.data for e in events] == ["a\nb"]
    assert not [i for i in first if isinstance(i, Event)]
    assert events[0].raw == b"data: a\r\ndata: b\r\n\r\n"
    assert events[0].t == 3.0  # completed by the read that resolved the final CR
    assert parser.line_endings == {"\r\n", "\n"}
    assert summary(third)[-1] == (C, "after")


def test_item_time_is_the_feed_that_completed_it() -> None:
    parser = SSEParser()
    assert parser.feed(b":)\nevent: update\n", 0.5) == [Comment(text=")", t=0.5, raw=b":)\n")]
    items = parser.feed(b"data: {}\n\n", 2.25)
    assert items == [
        Event(
            event="update",
            data="{}",
            id=None,
            retry=None,
            t=2.25,
            raw=b"event: update\ndata: {}\n\n",
        )
    ]


def test_event_raw_excludes_interleaved_comments() -> None:
    items = run_chunks([b"data: 1\n:c\ndata: 2\n\n"])
    event = next(i for i in items if isinstance(i, Event))
    assert event.raw == b"data: 1\ndata: 2\n\n"


def test_unterminated_event_reports_its_bytes() -> None:
    items = run_chunks([b'data: ok\n\nevent: update\ndata: {"a"', b":1}"])
    violation = items[-1]
    assert isinstance(violation, Violation)
    assert violation.kind == "unterminated-event"
    assert violation.raw == b'event: update\ndata: {"a":1}'
    assert violation.t == 2.0


def test_line_too_long_is_reported_once_and_the_rest_discarded() -> None:
    parser = SSEParser(max_line_bytes=8)
    items = parser.feed(b"data: 0123456789", 0.0) + parser.feed(b"abcdef\ndata: ok\n\n", 1.0)
    assert summary(items) == [(V, "line-too-long"), (E, "message", "ok", None, None, True)]
    assert items[0].raw == b"data: 01"
    assert parser.buffered_bytes == 0


def test_line_exactly_at_limit_is_accepted() -> None:
    parser = SSEParser(max_line_bytes=7)
    assert summary(parser.feed(b"data: x\n\n", 0.0)) == [(E, "message", "x", None, None, True)]


def test_event_too_long_is_dropped_and_parsing_continues() -> None:
    parser = SSEParser(max_line_bytes=16, max_event_bytes=20)
    items = parser.feed(b"data: aaaa\ndata: bbbb\ndata: cccc\n\ndata: ok\n\n", 0.0)
    assert summary(items) == [(V, "event-too-long"), (E, "message", "ok", None, None, True)]


def test_line_endings_are_tracked() -> None:
    parser = SSEParser()
    parser.feed(b"data: a\n\ndata: b\r\n\r\ndata: c\r\r", 0.0)
    parser.close(1.0)
    assert parser.line_endings == {"\n", "\r\n", "\r"}


def test_bom_split_across_feeds_is_stripped() -> None:
    items = run_chunks([b"\xef", b"\xbb", b"\xbfdata: a\n\n"])
    assert summary(items) == [(E, "message", "a", None, None, True)]


def test_partial_bom_at_close_is_data() -> None:
    parser = SSEParser()
    assert parser.feed(b"\xef\xbb", 0.0) == []
    items = parser.close(1.0)
    assert [i.kind for i in items if isinstance(i, Violation)] == ["unterminated-event"]


def test_feed_after_close_is_reported_not_raised() -> None:
    parser = SSEParser()
    parser.close(0.0)
    assert [v.kind for v in parser.feed(b"data: x\n\n", 1.0)] == ["data-after-close"]
    assert parser.close(2.0) == []


def test_serialize_event_matches_mastodon_framing() -> None:
    assert serialize_event("update", '{"id":"1"}') == b'event: update\ndata: {"id":"1"}\n\n'
    expected = b"data: a\ndata: b\nid: 7\nretry: 10\n\n"
    assert serialize_event(None, "a\nb", id="7", retry=10) == expected
    assert serialize_comment("thump") == b":thump\n"
    with pytest.raises(ValueError):
        serialize_event("up\ndate", "x")


def test_parse_sse_transcript_feeds_chunks_and_closes_at_end() -> None:
    transcript = Transcript(meta=Meta(id="t", transport="sse", request={}))
    transcript.add(0.0, "connect")
    transcript.add(0.1, "body-chunk", data=b":)\n")
    transcript.add(0.2, "body-chunk", data=b"event: update\n")
    transcript.add(0.3, "body-chunk", data=b"data: {}\n\nevent: delete\n")
    transcript.add(0.4, "end", how="incomplete", detail="")
    parsed = parse_sse_transcript(transcript)
    assert [c.t for c in parsed.comments] == [0.1]
    assert [(e.event, e.t) for e in parsed.events] == [("update", 0.3)]
    assert [(v.kind, v.t) for v in parsed.violations] == [("unterminated-event", 0.4)]
    assert parsed.closed


def test_open_transcript_is_not_flagged_unterminated() -> None:
    transcript = Transcript(meta=Meta(id="t", transport="sse", request={}))
    transcript.add(0.1, "body-chunk", data=b"event: update\n")
    assert parse_sse_transcript(transcript).violations == []


def test_parse_sse_bytes_helper() -> None:
    parsed = parse_sse_bytes(b":)\nevent: a\ndata: 1\n\n")
    assert [e.event for e in parsed.events] == ["a"]
    assert parsed.line_endings == {"\n"}


def test_transcript_parse_keeps_a_bounded_number_of_events() -> None:
    """A flood is cut at DEFAULT_MAX_EVENTS events, reported once as too-many-events."""
    from conformance.sse.bounds import DEFAULT_MAX_EVENTS

    transcript = Transcript(meta=Meta(id="t", transport="sse", request={}))
    transcript.add(0.1, "body-chunk", data=b"event: a\ndata: 1\n\n" * (DEFAULT_MAX_EVENTS + 50))
    transcript.add(0.2, "end", how="eof", detail="")
    parsed = parse_sse_transcript(transcript)
    assert len(parsed.events) == DEFAULT_MAX_EVENTS
    assert [v.kind for v in parsed.violations] == ["too-many-events"]


def test_recorder_limit_notes_come_back_as_violations() -> None:
    transcript = Transcript(meta=Meta(id="t", transport="sse", request={}))
    transcript.add(0.1, "body-chunk", data=b"event: a\ndata: 1\n\n")
    transcript.add(0.2, "note", text="closed by the suite: line-too-long", limit="line-too-long")
    transcript.add(0.3, "note", text="unrelated", limit="ws-message-size")
    transcript.add(0.4, "end", how="client-close", detail="limit: line-too-long")
    parsed = parse_sse_transcript(transcript)
    assert [(v.kind, v.t) for v in parsed.violations] == [("line-too-long", 0.2)]
    assert len(parsed.events) == 1
