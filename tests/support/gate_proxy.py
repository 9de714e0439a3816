"""Loopback TCP proxies a test can watch and hold, so it waits on conditions instead of time.

Why: a test that must act *while* another process is in a given phase (the second Ctrl-C
while the first one's cleanup runs) cannot guess that moment with a sleep on a loaded machine.
Put the process's connections through these proxies and the phase becomes observable (the
streams it holds closed: ``streams_open`` fell to 0) and can be held (``hold()``: bytes from the
client are kept back until ``release()``, so a cleanup request waits, with the process inside
its cleanup, until the test has done what it needed to do).

Both proxies of one ``ProxyPair`` run on one event loop in a background thread, so "the last
stream closed" switches the gate in the same loop that forwards the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from timing import scaled

__all__ = ["GateProxy", "ProxyPair", "proxy_pair", "wait_until"]


def wait_until(condition: Callable[[], bool], deadline_s: float, what: str) -> None:
    """Poll ``condition`` (another process's progress: there is no event to wait on) until it
    holds; ``AssertionError`` naming ``what`` after ``deadline_s`` (already scaled)."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {deadline_s:.0f} s waiting for {what}")
        time.sleep(0.02)


class GateProxy:
    """Forwards ``127.0.0.1:port`` to an upstream address; counts connections; can hold the
    client-to-server direction."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self.open_count = 0
        self.opened_total = 0
        #: connections the upstream answered as a stream (101 upgrade or text/event-stream),
        #: open now: pooled keep-alive requests do not count, a recorder's stream does
        self.streams_open = 0
        self.streams_total = 0
        #: hold the client direction at the first chunk matching this (``hold_at``)
        self._hold_at: re.Pattern[bytes] | None = None
        #: set when a client sent bytes while the gate was held (a request is waiting)
        self.held_request = threading.Event()
        self._open = asyncio.Event()  # created lazily in the loop (see ProxyPair)
        self._server: asyncio.base_events.Server | None = None
        self.on_all_closed: Callable[[], None] | None = None
        self.on_stream_opened: Callable[[], None] | None = None

    def hold(self) -> None:
        self._open.clear()

    def hold_at(self, pattern: bytes) -> None:
        """Hold from the first client chunk matching ``pattern`` (a regex) on, that chunk
        included: the request waits, unanswered, until ``release()``."""
        self._hold_at = re.compile(pattern)

    def release(self) -> None:
        self._open.set()

    async def start(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._open.set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_count += 1
        self.opened_total += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            self._closed([False])
            return
        streaming = [False]  # [answered as a stream and not yet ended]
        back = asyncio.ensure_future(self._pipe(up_reader, writer, gated=False, seen=streaming))
        try:
            await self._pipe(reader, up_writer, gated=True)
        finally:
            self._closed(streaming)  # the client is done: "the process closed it"
            with contextlib.suppress(Exception):
                await asyncio.wait_for(back, scaled(5))
            for w in (writer, up_writer):
                with contextlib.suppress(Exception):
                    w.close()

    async def _pipe(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        *,
        gated: bool,
        seen: list[bool] | None = None,
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await src.read(65536):
                if gated and self._hold_at is not None and self._hold_at.search(data):
                    self._hold_at = None
                    self.hold()
                if gated and not self._open.is_set():
                    self.held_request.set()
                    await self._open.wait()
                if seen is not None and not seen[0] and _is_stream_head(data):
                    seen[0] = True
                    self.streams_open += 1
                    self.streams_total += 1
                    if self.on_stream_opened is not None:
                        self.on_stream_opened()
                elif seen is not None and seen[0] and data.endswith(b"\r\n0\r\n\r\n"):
                    # the server ended the SSE body (a revoked token): httpx may keep the
                    # socket in its pool until the run ends, but the stream is over
                    self._stream_ended(seen)
                dst.write(data)
                await dst.drain()
            if dst.can_write_eof():
                dst.write_eof()

    def _closed(self, streaming: list[bool]) -> None:
        self.open_count -= 1
        self._stream_ended(streaming)

    def _stream_ended(self, streaming: list[bool]) -> None:
        if not streaming[0]:
            return
        streaming[0] = False
        self.streams_open -= 1
        if self.streams_open == 0 and self.on_all_closed is not None:
            self.on_all_closed()


def _is_stream_head(data: bytes) -> bool:
    head = data[:4096].lower()
    return head.startswith(b"http/1.1 101") or b"content-type: text/event-stream" in head


class ProxyPair:
    """Two proxies on one loop in a thread: ``rest`` (gated) and ``stream`` (watched)."""

    def __init__(self, rest: GateProxy, stream: GateProxy) -> None:
        self.rest, self.stream = rest, stream
        self.loop = asyncio.new_event_loop()

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` in the proxies' loop (their state belongs to it)."""
        self.loop.call_soon_threadsafe(fn)

    def hold_rest_once_streams_open(self, count: int) -> None:
        """Hold the REST direction as soon as ``count`` streams are open: the run stops at its
        next REST request (a warm-up or a step) with its streams open, until ``release``."""

        def opened() -> None:
            if self.stream.streams_open >= count:
                self.stream.on_stream_opened = None
                self.rest.hold()

        self.stream.on_stream_opened = opened

    def hold_rest_once_streams_closed(self) -> None:
        """From now on, the moment the last stream closes, hold the REST direction (armed in
        the proxies' own loop: no request can slip past between the two)."""

        def arm() -> None:
            self.stream.on_all_closed = self.rest.hold
            if self.stream.streams_open == 0:
                self.rest.hold()

        self.call(arm)


@contextmanager
def proxy_pair(rest: tuple[str, int], stream: tuple[str, int]) -> Iterator[ProxyPair]:
    pair = ProxyPair(GateProxy(rest), GateProxy(stream))
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(pair.loop)
        pair.loop.run_until_complete(pair.rest.start())
        pair.loop.run_until_complete(pair.stream.start())
        started.set()
        pair.loop.run_forever()

    thread = threading.Thread(target=run, name="gate-proxy", daemon=True)
    thread.start()
    assert started.wait(scaled(10)), "the proxies did not start"
    try:
        yield pair
    finally:
        pair.call(pair.rest.release)
        for proxy in (pair.rest, pair.stream):
            asyncio.run_coroutine_threadsafe(proxy.stop(), pair.loop).result(scaled(10))
        pair.loop.call_soon_threadsafe(pair.loop.stop)
        thread.join(scaled(10))
