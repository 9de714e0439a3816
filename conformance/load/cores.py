"""Lightweight subscribers as sans-I/O cores: bytes in, a few counters out, no transcript.

Thousands of connections cannot each keep a full transcript, so a load subscriber keeps only
what the load report needs: which measured events it saw (a set of sequence numbers), how late
each arrived, duplicates, order, and the gaps between keep-alives. The bytes are still parsed
properly: SSE through the suite's own parser (``conformance.sse.parser``) on top of ``h11``'s
HTTP/1.1 client state machine, WebSocket through the ``websockets`` sans-I/O client protocol
(which answers the server's pings as a real client does). Doing no I/O here lets the same core
run under asyncio (``worker.py``) and under Locust's gevent (``locustfile.py``).

Each stimulus status carries a marker ``msc-load-<run>-<kind><seq>-<epoch µs>`` (``marker.py``):
the subscriber reads the sequence number and the send time from the payload itself, so latency
needs no coordination between processes (only clocks that agree: one machine, or NTP).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import h11
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from conformance.load.histogram import Histogram
from conformance.load.marker import find_marker
from conformance.load.streams import StreamSpec
from conformance.sse.parser import Comment, Event, SSEParser

__all__ = ["SSECore", "Sink", "Tally", "WSCore", "make_core"]

MAX_FRAME_BYTES = 1 << 20


@dataclass
class Sink:
    """What every subscriber of one process adds to: the shared latency histograms."""

    run_id: str
    latency: Histogram = field(default_factory=Histogram)
    #: stimulus epoch second -> latency of the deliveries of that second's stimuli
    timeline: dict[int, Histogram] = field(default_factory=dict)
    measured_delivered: int = 0

    def delivered(self, sent_us: int, now: float) -> None:
        latency = now * 1e6 - sent_us
        self.latency.record(latency)
        second = sent_us // 1_000_000
        hist = self.timeline.get(second)
        if hist is None:
            hist = self.timeline[second] = Histogram()
        hist.record(latency)
        self.measured_delivered += 1


@dataclass
class Tally:
    """One subscriber's counters (a few hundred bytes, whatever the number of events)."""

    transport: str
    stream: str
    started: float = 0.0
    setup_s: float | None = None
    status: int | None = None
    refused: str | None = None
    ready: bool = False
    closed: str | None = None
    closed_at: float | None = None
    seen: set[int] = field(default_factory=set)
    max_seq: int = -1
    duplicated: int = 0
    out_of_order: int = 0
    last_keepalive: float | None = None
    max_keepalive_gap: float = 0.0
    keepalives: int = 0

    @property
    def open(self) -> bool:
        return self.status is not None and self.refused is None and self.closed is None

    def on_head(self, status: int, now: float, ok: int) -> None:
        self.status = status
        self.setup_s = now - self.started
        if status != ok:
            self.refused = f"HTTP {status}"
        else:
            self.last_keepalive = now

    def on_text(self, text: str, now: float, sink: Sink) -> None:
        found = find_marker(text, sink.run_id)
        if found is None:
            return
        kind, seq, sent_us = found
        self.ready = True
        if kind != "m":
            return
        if seq in self.seen:
            self.duplicated += 1
            return
        if seq < self.max_seq:
            self.out_of_order += 1
        else:
            self.max_seq = seq
        self.seen.add(seq)
        sink.delivered(sent_us, now)

    def on_keepalive(self, now: float) -> None:
        self.keepalives += 1
        self._gap(now)
        self.last_keepalive = now

    def on_closed(self, reason: str, now: float) -> None:
        if self.closed is None:
            self.closed = reason
            self.closed_at = now

    def finish(self, now: float) -> None:
        """Count the trailing silence (a stream that went quiet at the end missed beats too)."""
        self._gap(self.closed_at if self.closed_at is not None else now)

    def _gap(self, now: float) -> None:
        if self.last_keepalive is not None:
            self.max_keepalive_gap = max(self.max_keepalive_gap, now - self.last_keepalive)


class SSECore:
    """One SSE subscriber: an HTTP/1.1 GET (h11) whose body goes through the SSE parser."""

    def __init__(self, base_url: str, spec: StreamSpec, token: str | None, sink: Sink) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.tls = parts.scheme == "https"
        path, params = spec.sse_path()
        target = parts.path.rstrip("/").removesuffix("/api/v1/streaming") + path
        if params:
            target += "?" + urlencode(params)
        headers = [("Host", parts.netloc), ("Accept", "text/event-stream")]
        if token:
            headers.append(("Authorization", f"Bearer {token}"))
        self._request = h11.Request(method="GET", target=target, headers=headers)
        self._http = h11.Connection(our_role=h11.CLIENT, max_incomplete_event_size=1 << 20)
        self._parser = SSEParser(max_line_bytes=MAX_FRAME_BYTES)
        self.sink = sink
        self.tally = Tally(transport="sse", stream=spec.label)

    def start(self, now: float) -> bytes:
        self.tally.started = self.tally.started or now
        return self._http.send(self._request) + self._http.send(h11.EndOfMessage())

    def feed(self, data: bytes, now: float) -> bytes:
        try:
            self._http.receive_data(data)
            while True:
                event = self._http.next_event()
                if event is h11.NEED_DATA or event is h11.PAUSED:
                    break
                self._on_event(event, now)
        except h11.RemoteProtocolError as exc:
            self.tally.on_closed(f"protocol error: {exc}", now)
        return b""

    def eof(self, now: float) -> None:
        if self.tally.status is None:
            self.tally.refused = "closed before a response"
        self.tally.on_closed("eof", now)

    def _on_event(self, event: Any, now: float) -> None:
        tally = self.tally
        if isinstance(event, h11.Response):
            tally.on_head(event.status_code, now, 200)
        elif isinstance(event, h11.Data):
            for item in self._parser.feed(bytes(event.data), now):
                if isinstance(item, Event):
                    if item.event == "update":
                        tally.on_text(item.data, now, self.sink)
                elif isinstance(item, Comment):
                    tally.on_keepalive(now)
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            tally.on_closed("server ended the stream", now)


class WSCore:
    """One WebSocket subscriber: ``websockets``' sans-I/O client; pings are answered."""

    def __init__(self, base_url: str, spec: StreamSpec, token: str | None, sink: Sink) -> None:
        parts = urlsplit(base_url)
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        path = parts.path.rstrip("/")
        if not path.endswith("/api/v1/streaming"):
            path += "/api/v1/streaming"
        url = f"{scheme}://{parts.netloc}{path}?{urlencode(spec.ws_params())}"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if scheme == "wss" else 80)
        self.tls = scheme == "wss"
        self._protocol = ClientProtocol(parse_uri(url), max_size=MAX_FRAME_BYTES)
        self._token = token
        self.sink = sink
        self.tally = Tally(transport="ws", stream=spec.label)

    def start(self, now: float) -> bytes:
        self.tally.started = self.tally.started or now
        request = self._protocol.connect()
        if self._token:
            request.headers["Authorization"] = f"Bearer {self._token}"
        self._protocol.send_request(request)
        return b"".join(self._protocol.data_to_send())

    def feed(self, data: bytes, now: float) -> bytes:
        self._protocol.receive_data(data)
        for event in self._protocol.events_received():
            self._on_event(event, now)
        if self._protocol.handshake_exc is not None and self.tally.refused is None:
            self.tally.refused = f"handshake failed: {self._protocol.handshake_exc}"
        return b"".join(self._protocol.data_to_send())

    def eof(self, now: float) -> None:
        self._protocol.receive_eof()
        if self.tally.status is None:
            self.tally.refused = "closed before a response"
        self.tally.on_closed("eof", now)

    def close_bytes(self) -> bytes:
        """The client's close frame (a polite goodbye; the caller then drops the socket)."""
        try:
            self._protocol.send_close(1000)
        except Exception:
            return b""
        return b"".join(self._protocol.data_to_send())

    def _on_event(self, event: Any, now: float) -> None:
        tally = self.tally
        if isinstance(event, Response):
            tally.on_head(event.status_code, now, 101)
        elif isinstance(event, Frame):
            if event.opcode is Opcode.TEXT:
                _on_ws_text(tally, bytes(event.data), now, self.sink)
            elif event.opcode is Opcode.PING:
                tally.on_keepalive(now)
            elif event.opcode is Opcode.CLOSE:
                tally.on_closed("server sent a close frame", now)


def _on_ws_text(tally: Tally, data: bytes, now: float, sink: Sink) -> None:
    try:
        message = json.loads(data)
    except ValueError:
        return
    if isinstance(message, dict) and message.get("event") == "update":
        payload = message.get("payload")
        if isinstance(payload, str):
            tally.on_text(payload, now, sink)


def make_core(
    transport: str, base_url: str, spec: StreamSpec, token: str | None, sink: Sink
) -> SSECore | WSCore:
    if transport == "ws":
        return WSCore(base_url, spec, token, sink)
    return SSECore(base_url, spec, token, sink)
