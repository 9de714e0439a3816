"""The lightweight subscribers (sans-I/O): what they count from crafted server bytes."""

from __future__ import annotations

import json

from websockets.frames import Opcode
from websockets.server import ServerProtocol

from conformance.load.cores import Sink, SSECore, WSCore
from conformance.load.marker import find_marker, make_marker
from conformance.load.streams import StreamSpec, parse_streams

RUN = "0badcafe"
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def update(seq: int, sent: float, kind: str = "m") -> str:
    marker, _ = make_marker(RUN, kind, seq, sent)
    return json.dumps({"id": str(seq), "content": f"<p>{marker} #<span>tag</span></p>"})


def sse_event(seq: int, sent: float, kind: str = "m") -> bytes:
    return chunk(f"event: update\ndata: {update(seq, sent, kind)}\n\n".encode())


def test_marker_round_trip_and_other_runs_are_ignored() -> None:
    marker, sent_us = make_marker(RUN, "m", 42, 1000.5)
    assert find_marker(f"<p>{marker}</p>", RUN) == ("m", 42, sent_us)
    assert find_marker(f"<p>{marker}</p>", "ffffffff") is None
    assert find_marker("nothing here", RUN) is None


def test_streams_parse_and_reject_unknown() -> None:
    specs = parse_streams("public,hashtag:Foo,user,hashtag", "dflt")
    assert [s.label for s in specs] == ["public", "hashtag:foo", "user", "hashtag:dflt"]
    for bad in ("home", "public:x", "hashtag:a-b", ""):
        try:
            parse_streams(bad, "t")
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")


def test_sse_core_counts_deliveries_duplicates_order_and_latency() -> None:
    sink = Sink(run_id=RUN)
    core = SSECore("http://127.0.0.1:4000", StreamSpec("hashtag", "tag"), "tok", sink)
    request = core.start(100.0)
    assert b"GET /api/v1/streaming/hashtag?tag=tag HTTP/1.1" in request
    assert b"Bearer tok" in request
    core.feed(HEAD + chunk(b":)\n"), 100.05)
    assert core.tally.status == 200 and abs(core.tally.setup_s - 0.05) < 1e-9
    core.feed(sse_event(1, 100.0, "w"), 100.1)  # warm-up: ready, not measured
    assert core.tally.ready and sink.latency.count == 0
    core.feed(sse_event(0, 101.0) + sse_event(2, 101.0), 101.25)
    core.feed(sse_event(1, 101.0), 101.5)  # late: out of order
    core.feed(sse_event(2, 101.0), 101.6)  # again: duplicate
    core.feed(chunk(b":thump\n\n"), 104.0)
    tally = core.tally
    assert tally.seen == {0, 1, 2}
    assert (tally.duplicated, tally.out_of_order) == (1, 1)
    assert sink.latency.count == 3 and sink.measured_delivered == 3
    assert sink.latency.max == 500_000 and sink.latency.min == 250_000
    assert tally.keepalives == 2  # the ':)' opener and one heartbeat
    assert abs(tally.max_keepalive_gap - 3.95) < 1e-6


def test_sse_core_records_a_refusal() -> None:
    core = SSECore("http://127.0.0.1:4000", StreamSpec("public"), None, Sink(run_id=RUN))
    core.start(1.0)
    body = b'{"error":"Error"}'
    core.feed(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body), 1.1)
    assert core.tally.refused == "HTTP 401" and not core.tally.open


def _handshake(core: WSCore, now: float) -> ServerProtocol:
    server = ServerProtocol()
    server.receive_data(core.start(now))
    request = server.events_received()[0]
    assert request.headers["Authorization"] == "Bearer tok"
    assert request.path == "/api/v1/streaming?stream=user"
    server.send_response(server.accept(request))
    core.feed(b"".join(server.data_to_send()), now + 0.02)
    return server


def test_ws_core_counts_updates_and_answers_pings() -> None:
    sink = Sink(run_id=RUN)
    core = WSCore("http://127.0.0.1:4000", StreamSpec("user"), "tok", sink)
    server = _handshake(core, 10.0)
    assert core.tally.status == 101 and core.tally.open
    frame = {"stream": ["user"], "event": "update", "payload": update(0, 10.0)}
    server.send_text(json.dumps(frame).encode())
    server.send_text(json.dumps({**frame, "event": "delete", "payload": "1"}).encode())
    server.send_ping(b"hb")
    out = core.feed(b"".join(server.data_to_send()), 10.5)
    assert core.tally.seen == {0} and sink.latency.max == 500_000
    assert core.tally.keepalives == 1
    server.receive_data(out)
    pongs = [e for e in server.events_received() if getattr(e, "opcode", None) is Opcode.PONG]
    assert pongs and pongs[0].data == b"hb"


def test_ws_core_records_a_refused_upgrade() -> None:
    core = WSCore("http://127.0.0.1:4000", StreamSpec("user"), "tok", Sink(run_id=RUN))
    core.start(1.0)
    core.feed(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", 1.1)
    assert core.tally.refused is not None and not core.tally.open
