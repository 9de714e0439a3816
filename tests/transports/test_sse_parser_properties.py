"""Properties of the SSE parser: chunking never matters, no input raises, round trips hold,
and memory stays bounded on endless lines."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from sse_case_runner import run_chunks, summary

from conformance.sse.events import Event, Violation
from conformance.sse.parser import EVIDENCE_BYTES, SSEParser, serialize_event

PROPS = settings(max_examples=150, deadline=None)

# Fragments that exercise every branch: fields, separators, all line endings, BOM, bad UTF-8.
FRAGMENTS = [
    b"data",
    b"event",
    b"id",
    b"retry",
    b"foo",
    b":",
    b": ",
    b" ",
    b"\r",
    b"\n",
    b"\r\n",
    b"x",
    b"1",
    b"update",
    b"\xef\xbb\xbf",
    b"\xef",
    b"\xff",
    b"\x00",
    b"\xc3\xa9",
    b":thump",
]
sse_bytes = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map(b"".join)


@st.composite
def chunked(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    data = draw(sse_bytes | st.binary(max_size=200))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    bounds = [0, *cuts, len(data)]
    return data, [data[a:b] for a, b in itertools.pairwise(bounds)]


@PROPS
@given(chunked())
def test_any_chunking_gives_identical_items(case: tuple[bytes, list[bytes]]) -> None:
    data, chunks = case
    whole = summary(run_chunks([data], max_line_bytes=16), raw=True)
    split = summary(run_chunks(chunks, max_line_bytes=16), raw=True)
    assert split == whole


@PROPS
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_arbitrary_bytes_never_raise(chunks: list[bytes]) -> None:
    parser = SSEParser(max_line_bytes=32)
    for i, piece in enumerate(chunks):
        parser.feed(piece, float(i))
        assert parser.buffered_bytes <= 32 + 64 * 32 + len(b"\xef\xbb")
    parser.close(9.0)
    assert parser.buffered_bytes == 0


line_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=20
)


@PROPS
@given(
    event=st.one_of(st.none(), line_text),
    data=st.lists(line_text, min_size=1, max_size=5).map("\n".join),
    id_=st.one_of(st.none(), line_text.filter(lambda s: "\x00" not in s)),
    retry=st.one_of(st.none(), st.integers(0, 10**9)),
    ending=st.sampled_from(["\n", "\r", "\r\n"]),
)
def test_serialize_then_parse_round_trips(
    event: str | None, data: str, id_: str | None, retry: int | None, ending: str
) -> None:
    encoded = serialize_event(event, data, id=id_, retry=retry, line_ending=ending)
    items = run_chunks([b":)" + ending.encode(), encoded])
    events = [i for i in items if isinstance(i, Event)]
    assert len(events) == 1
    got = events[0]
    assert got.event == (event or "message")
    assert got.data == data
    assert got.id == id_
    assert got.retry == retry
    assert got.raw == encoded
    assert not [v for v in items if isinstance(v, Violation) and v.kind != "cr-line-ending"]


def test_memory_bounded_on_endless_line() -> None:
    """10 MB without a newline, 64 KiB line limit: the buffer never exceeds the limit."""
    limit = 64 * 1024
    parser = SSEParser(max_line_bytes=limit)
    block = b"d" * 65_000
    violations = []
    peak = 0
    for i in range(160):  # ~10.4 MB
        violations += parser.feed(block, float(i))
        peak = max(peak, parser.buffered_bytes)
    assert peak <= limit
    assert [v.kind for v in violations] == ["line-too-long"]
    assert len(violations[0].raw) == min(limit, EVIDENCE_BYTES)
    items = parser.feed(b"\n\ndata: ok\n\n", 200.0)
    assert [(e.data) for e in items if isinstance(e, Event)] == ["ok"]
