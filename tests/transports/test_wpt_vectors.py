"""WPT EventSource parsing vectors (conformance-practices.md §3) plus Mastodon's own framing.

Each vector runs whole, byte by byte, and in a few fixed chunkings; the expected result is what
a browser dispatches (``events``) and, for ours, the extra observations judges rely on.
"""

from __future__ import annotations

import pytest
from sse_case_runner import run_chunks, summary

from conformance.sse.events import Comment, Event, Violation

LONG_COMMENT = b":" + b"x" * 2048 + b"\n"

# (name, stream, expected dispatched data list, expected event types or None)
WPT: list[tuple[str, bytes, list[str]]] = [
    ("mixed-line-endings", b"data:test\r\ndata\ndata:test\r\n\r", ["test\n\ntest"]),
    (
        "field-parsing",
        b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n",
        ["test\n\ntest"],
    ),
    ("space-after-colon", b"data:\ttest\rdata: \ndata:test\n\n", ["\ttest\n\ntest"]),
    ("empty-data", b"data:\n\ndata\ndata\n\ndata:test\n\n", ["", "\n", "test"]),
    (
        "comments",
        b"data:1\r:\x00\n:\r\ndata:2\n"
        + LONG_COMMENT
        + b"data:3\n:data:fail\r:"
        + b"x" * 2048
        + b"\ndata:4\n\n",
        ["1\n2\n3\n4"],
    ),
    ("bom", b"\xef\xbb\xbfdata:1\n\n\xef\xbb\xbfdata:2\n\ndata:3\n\n", ["1", "3"]),
    ("incomplete-last-event", b"data:test\n\ndata:test2", ["test"]),
    ("nul-in-data", b"data:\x00\n\n", ["\x00"]),
    ("chunk-boundaries", b"data: hello\n\n", ["hello"]),
]


def _chunkings(data: bytes) -> list[list[bytes]]:
    return [
        [data],
        [data[i : i + 1] for i in range(len(data))],
        [data[i : i + 3] for i in range(0, len(data), 3)],
        [data[: len(data) // 2], data[len(data) // 2 :]],
    ]


@pytest.mark.parametrize(("stream", "expected"), [v[1:] for v in WPT], ids=[v[0] for v in WPT])
def test_wpt_vector(stream: bytes, expected: list[str]) -> None:
    results = []
    for chunks in _chunkings(stream):
        items = run_chunks(chunks)
        dispatched = [i.data for i in items if isinstance(i, Event) and i.has_data]
        assert dispatched == expected
        results.append(summary(items, raw=True))
    assert all(r == results[0] for r in results)


def test_wpt_chunk_boundaries_exact() -> None:
    items = run_chunks([b"da", b"ta: hel", b"lo\n\n"])
    assert [(i.data, i.t) for i in items if isinstance(i, Event)] == [("hello", 2.0)]


def test_wpt_incomplete_event_id_not_committed() -> None:
    items = run_chunks([b"id: 1\ndata: a\n\nid: 2\ndata: b"])
    events = [i for i in items if isinstance(i, Event)]
    assert [(e.data, e.id) for e in events] == [("a", "1")]
    assert isinstance(items[-1], Violation) and items[-1].kind == "unterminated-event"


def test_wpt_id_with_nul_keeps_previous_id() -> None:
    items = run_chunks([b"id: a\ndata: 1\n\nid: b\x00c\ndata: 2\n\n"])
    assert [e.id for e in items if isinstance(e, Event)] == ["a", "a"]


def test_wpt_retry_non_digits_ignored() -> None:
    items = run_chunks([b"retry:1000x\ndata:x\n\nretry:2000\ndata:y\n\n"])
    assert [e.retry for e in items if isinstance(e, Event)] == [None, 2000]


def test_wpt_empty_event_field_is_message() -> None:
    items = run_chunks([b"event:\ndata:x\n\n"])
    assert [e.event for e in items if isinstance(e, Event)] == ["message"]


def test_wpt_later_bom_line_ignored_and_reported() -> None:
    items = run_chunks([b"\xef\xbb\xbfdata:1\n\n\xef\xbb\xbfdata:2\n\n"])
    kinds = [v.kind for v in items if isinstance(v, Violation)]
    assert kinds == ["field-without-space", "bom-not-at-start"]


def test_crlf_split_across_chunks_not_in_wpt() -> None:
    items = run_chunks([b"data: a\r", b"\n\r", b"\n"])
    assert [(e.data, e.t) for e in items if isinstance(e, Event)] == [("a", 2.0)]
    assert len([e for e in items if isinstance(e, Event)]) == 1


# -- Mastodon additions ------------------------------------------------------------------------


def test_mastodon_opener_without_blank_line() -> None:
    """``:)\\n`` is a complete comment line; closing after it is not an unterminated event."""
    items = run_chunks([b":)\n"])
    assert items == [Comment(text=")", t=0.0, raw=b":)\n")]


@pytest.mark.parametrize("heartbeat", [b":thump\n", b":thump\n\n"], ids=["pre-4.6", "4.6+"])
def test_mastodon_heartbeat_forms(heartbeat: bytes) -> None:
    items = run_chunks([b":)\n", heartbeat, b"event: update\n", b"data: {}\n\n"])
    assert summary(items) == [
        ("comment", ")"),
        ("comment", "thump"),
        ("event", "update", "{}", None, None, True),
    ]
    assert [i.t for i in items] == [0.0, 1.0, 3.0]


def test_mastodon_event_and_data_in_separate_chunks() -> None:
    items = run_chunks([b"event: update\n", b'data: {"id":"1"}\n\n'])
    event = items[0]
    assert isinstance(event, Event)
    assert (event.event, event.data, event.t) == ("update", '{"id":"1"}', 1.0)
    assert event.raw == b'event: update\ndata: {"id":"1"}\n\n'


def test_mastodon_bare_id_data_line() -> None:
    items = run_chunks([b"event: delete\ndata: 117693363060746879\n\n"])
    assert summary(items) == [("event", "delete", "117693363060746879", None, None, True)]


def test_mastodon_stream_cut_mid_event() -> None:
    """The crash capture: the body stops after ``event:`` without its data or blank line."""
    items = run_chunks([b":)\n", b"event: update\n"])
    assert summary(items) == [("comment", ")"), ("violation", "unterminated-event")]
    assert items[-1].raw == b"event: update\n"
