"""WebSocket recorder: websockets' sans-I/O ``ClientProtocol`` over a socket the suite owns.

The suite owns the bytes, as it does for SSE: it opens the TCP (and TLS) connection itself, feeds
what arrives both to its own frame scanner (``conformance/ws/frames.py``), which records every
frame exactly as sent (FIN, RSV bits, opcode, mask bit, length, header bytes, unmasked payload)
even when it breaks RFC 6455, and to websockets' ``ClientProtocol``, which behaves as a strict
client: it checks the handshake, answers pings and close frames, and fails the connection on a
protocol violation. The frames it would hide from a message API are the evidence judges need.

* Redirects are never followed: a 3xx answer to the upgrade is recorded as the observed status
  (with its ``Location``) and the connection ends there, so a token never reaches another origin.
* TLS verification follows ``verify_tls`` (``--insecure``).
* What one connection may make the suite hold is bounded (``transports/ws_limits.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidHandshake, InvalidState, InvalidStatus, InvalidURI
from websockets.frames import Frame
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from conformance.redact import Redactor, secrets_from_request
from conformance.transcript.model import Meta, Record, Transcript
from conformance.transports._shared import (
    Changes,
    Clock,
    HeadersArg,
    describe_predicate,
    header_list,
    is_reset,
    new_transcript,
)
from conformance.transports.ws_hold import FragmentHold
from conformance.transports.ws_limits import CLOSE_CODES, FloodGuard, WSLimits
from conformance.transports.ws_wire import (
    RecordingProtocol,
    TokenVia,
    frame_fields,
    record_response,
    redacted_fields,
    request_parts,
    sent_fields,
    ssl_context,
)
from conformance.ws.frames import FrameScanner, MessageAssembler, RawFrame
from conformance.ws.messages import ServerMessage, parse_server_text

__all__ = ["TokenVia", "WSLimits", "WSRecorder", "frame_fields"]

WSPredicate = Callable[[Sequence[ServerMessage]], bool]
RecordPredicate = Callable[[Sequence[Record]], bool]
READ_CHUNK = 65_536


class WSRecorder:
    """Records one WebSocket connection: handshake, every frame both ways, and how it ended.

    ``token_via`` says where the token goes: ``query`` (``?access_token=``), ``header``
    (``Authorization: Bearer``), ``subprotocol`` (offered as ``Sec-WebSocket-Protocol``, as
    Mastodon's web client does) or ``none``. Never raises for server behaviour.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        token_via: TokenVia = "subprotocol",
        meta: Meta,
        open_timeout_s: float = 10.0,
        answer_pings: bool = True,
        redactor: Redactor | None = None,
        headers: HeadersArg = None,
        close_timeout_s: float = 5.0,
        verify_tls: bool = True,
        limits: WSLimits | None = None,
    ) -> None:
        self.answer_pings = answer_pings
        self._open_timeout_s = open_timeout_s
        self._close_timeout_s = close_timeout_s
        self._verify_tls = verify_tls
        self.limits = limits or WSLimits()
        self._token_via: TokenVia = token_via if token else "none"
        self._url, extra, subprotocols = request_parts(
            url, header_list(headers), token, self._token_via
        )
        self._protocol: RecordingProtocol | None = None
        self._request_bytes = b""
        self._setup_problem: str | None = None
        request_headers: list[tuple[str, str]] = []
        try:
            self._uri = parse_uri(self._url)
            self._protocol = RecordingProtocol(
                self._uri,
                subprotocols=[Subprotocol(p) for p in subprotocols] or None,
                max_size=self.limits.max_message_bytes,
                recorder=self,
            )
            request_headers, self._request_bytes = self._protocol.request(extra)
        except (InvalidURI, ValueError) as exc:
            self._setup_problem = f"invalid WebSocket URL: {exc}"
        # The caller's secrets plus whatever credential this request carries.
        self._redactor = (redactor or Redactor()).extend(
            secrets_from_request(self._url, request_headers, token)
        )
        self.transcript: Transcript = new_transcript(
            meta,
            {"method": "GET", "url": self._url, "headers": [list(h) for h in request_headers]},
            self._redactor,
        )
        self._clock = Clock()
        self._changes: Changes | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_task: asyncio.Task[None] | None = None
        self._scanner = FrameScanner(max_frame_bytes=self.limits.max_message_bytes)
        self._assembler = MessageAssembler(
            max_message_bytes=self.limits.max_message_bytes,
            max_fragments=self.limits.max_fragments,
        )
        self._guard = FloodGuard(self.limits)
        self._hold = FragmentHold(self._redactor)
        self._messages: list[ServerMessage] = []
        self._closing = False
        self._started = False
        self._failed_noted = False
        self._recording_stopped = False
        self._pongs_stopped = False
        self._abort_handle: asyncio.TimerHandle | None = None

    # -- public API ----------------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.transcript.end is not None

    @property
    def open(self) -> bool:
        return self._writer is not None and not self.ended and self.status == 101

    @property
    def status(self) -> int | None:
        head = self.transcript.head
        return head.fields.get("status") if head is not None else None

    def items(self) -> list[ServerMessage]:
        """Parsed server text messages so far (reassembled from fragments), in arrival order."""
        return list(self._messages)

    async def start(self) -> None:
        """Open the connection; returns after the handshake (accepted, refused or failed)."""
        if self._started:
            return
        self._started = True
        self._changes = Changes()
        if self._protocol is None:
            self._finish("error", self._redactor.text(self._setup_problem or "no protocol"))
            return
        try:
            async with asyncio.timeout(self._open_timeout_s):
                await self._open()
        except TimeoutError:
            self._add_timeout("opening handshake", self._open_timeout_s)
            self._finish("deadline", f"open timeout {self._open_timeout_s}s")
        except OSError as exc:
            how = "reset" if is_reset(exc) else "error"
            self._finish(how, self._redactor.text(f"connect failed: {exc!r}"))
        if self.ended:
            self._abort()
        else:
            self._read_task = asyncio.create_task(self._read_loop())

    async def send_text(self, text: str) -> None:
        await self._send(lambda p: p.send_text(text.encode("utf-8")))

    async def send_binary(self, data: bytes) -> None:
        await self._send(lambda p: p.send_binary(bytes(data)))

    async def ping(self, data: bytes = b"") -> None:
        """Send a ping; the server's pong shows up as a ``ws-frame-recv`` record."""
        await self._send(lambda p: p.send_ping(data), what="ping")

    async def wait_for(
        self, predicate: WSPredicate, deadline_s: float, *, what: str | None = None
    ) -> bool:
        """Wait until ``predicate(items())`` holds; False if the connection ended or at deadline."""
        check = lambda: predicate(self._messages)  # noqa: E731
        return await self._wait(check, deadline_s, what or describe_predicate(predicate))

    async def wait_for_records(
        self, predicate: RecordPredicate, deadline_s: float, *, what: str | None = None
    ) -> bool:
        """Like ``wait_for`` over the transcript records (pings, close frames, the end)."""
        check = lambda: predicate(self.transcript.records)  # noqa: E731
        return await self._wait(
            check, deadline_s, what or describe_predicate(predicate), stop_at_end=False
        )

    async def wait_closed(self, deadline_s: float) -> bool:
        """Wait until the connection ended (server close, reset, ...)."""
        return await self._wait(lambda: self.ended, deadline_s, "connection end")

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame, wait (bounded) for the server's TCP close; records the end."""
        self._closing = True
        protocol = self._protocol
        if protocol is not None and self.open and protocol.state is State.OPEN:
            with contextlib.suppress(InvalidState):
                protocol.send_close(code, reason)
            self._flush()
        task = self._read_task
        if task is not None and not task.done():
            with contextlib.suppress(TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(task), self._close_timeout_s)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._abort()
        self._finish("client-close", "closed by the suite")

    # -- opening handshake ---------------------------------------------------------------------

    async def _open(self) -> None:
        uri = self._uri
        context = ssl_context(self._verify_tls) if uri.secure else None
        self._reader, self._writer = await asyncio.open_connection(
            uri.host, uri.port, ssl=context, server_hostname=uri.host if context else None
        )
        self._clock.start()
        self.transcript.add(0.0, "connect")
        self._bump()
        self._writer.write(self._request_bytes)
        await self._writer.drain()
        protocol = self._protocol
        assert protocol is not None
        pending = b""
        head_fed = False
        while True:
            data = await self._reader.read(READ_CHUNK)
            if not data:
                with contextlib.suppress(Exception):
                    protocol.receive_eof()
                if self._handshake_done(b""):
                    return
                self._finish("eof", "connection closed before a complete handshake response")
                return
            if head_fed:  # the body of a refusal
                if self._handshake_done(data):
                    return
                continue
            pending += data
            end = pending.find(b"\r\n\r\n")
            if end < 0 and len(pending) < 65_536:
                continue
            # Only the head goes to the protocol first: the bytes after it are frames, and the
            # scanner must see them too (or the refusal's body, fed next).
            cut = end + 4 if end >= 0 else len(pending)
            protocol.receive_data(pending[:cut])
            head_fed = True
            rest = pending[cut:]
            pending = b""
            if self._handshake_done(rest):
                return

    def _handshake_done(self, rest: bytes) -> bool:
        """Consume the protocol's handshake outcome; True once the handshake has an outcome."""
        protocol = self._protocol
        assert protocol is not None
        response = next((e for e in protocol.events_received() if isinstance(e, Response)), None)
        exc = protocol.handshake_exc
        if response is None and exc is None:
            if rest:
                protocol.receive_data(rest)
                return self._handshake_done(b"")
            return False
        if response is not None:
            self._record_response(response)
        if exc is None:
            if rest:
                self._on_bytes(rest)
            return True
        if isinstance(exc, InvalidStatus):
            response = exc.response
            self._record_response(response)
            status = response.status_code
            location = response.headers.get("Location")
            detail = f"upgrade refused: HTTP {status}"
            if 300 <= status < 400:
                detail += (
                    f" (redirect to {location!r} not followed: credentials stay with the target)"
                )
            self._finish("eof", self._redactor.text(detail))
        elif isinstance(exc, InvalidHandshake):
            self._finish("error", self._redactor.text(f"handshake failed: {exc}"))
        else:
            self._finish("error", self._redactor.text(f"handshake failed: {exc!r}"))
        return True

    # -- frames --------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        reader = self._reader
        assert reader is not None
        how, detail = "eof", ""
        try:
            while True:
                data = await reader.read(READ_CHUNK)
                if not data:
                    break
                self._on_bytes(data)
        except asyncio.CancelledError:
            raise
        except OSError as exc:
            how = "reset" if is_reset(exc) else "error"
            detail = f"{type(exc).__name__}: {exc}"
        protocol = self._protocol
        if protocol is not None and how == "eof":
            with contextlib.suppress(Exception):
                protocol.receive_eof()
            self._flush()
        if how == "eof" and self._scanner.pending and not self._scanner.stopped:
            how, detail = "incomplete", f"{self._scanner.pending} bytes of an unfinished frame"
        if self._closing:
            how = "client-close"
        elif self._recording_stopped:
            how, detail = "client-close", "the suite closed the connection at a resource limit"
        self._finish(how, self._redactor.text(detail))
        self._abort()

    def _on_bytes(self, data: bytes) -> None:
        protocol = self._protocol
        assert protocol is not None
        if not self._recording_stopped:
            for frame in self._scanner.feed(data):
                self._on_frame(frame)
                if self._recording_stopped:
                    break
        if protocol.parser_exc is None and protocol.state is not State.CLOSED:
            with contextlib.suppress(EOFError):
                protocol.receive_data(data)
            protocol.events_received()
        self._flush()
        exc = protocol.parser_exc
        if exc is not None and not self._failed_noted and not self._closing:
            self._failed_noted = True
            self._note(self._redactor.text(f"the suite failed the connection: {exc}"))
        if protocol.close_expected():
            self._schedule_abort()

    def _on_frame(self, frame: RawFrame) -> None:
        t = self._clock()
        fields = redacted_fields(frame_fields(frame), self._redactor)
        limit = self._guard.admit(frame.name, t)
        if limit is None:
            self._add_frames(self._hold.admit(t, fields, frame.name, frame.fin))
            if frame.oversized:
                limit = (
                    "ws-message-size",
                    f"a frame announcing {frame.length} bytes "
                    f"(limit {self.limits.max_message_bytes})",
                )
            else:
                for message in self._assembler.feed(frame.name, fields["data"], frame.fin, t):
                    if message.complete and message.opcode == "text":
                        self._on_text(message.data)
                if self._assembler.limit_hit is not None:
                    name = "ws-message-size" if "bytes" in self._assembler.limit_hit else ""
                    limit = (name or "ws-fragments", self._assembler.limit_hit)
        if limit is not None:
            self._hit_limit(*limit)
        self._bump()

    def _add_frames(self, frames: list[tuple[float, dict[str, Any]]]) -> None:
        for t, fields in frames:
            self.transcript.add(t, "ws-frame-recv", **fields)

    def _on_text(self, data: bytes) -> None:
        try:
            self._messages.append(parse_server_text(data.decode("utf-8")))
        except UnicodeDecodeError as exc:  # RFC 6455 §8.1: a strict client fails with 1007
            self._note(f"the suite failed the connection: text message not UTF-8 ({exc.reason})")
            self._fail(1007, "invalid UTF-8")

    def _hit_limit(self, name: str, detail: str) -> None:
        """Stop recording and fail the connection: what was kept is what gets judged."""
        self._recording_stopped = True
        self._pongs_stopped = True
        self._add_frames(self._hold.release())
        self.transcript.add(self._clock(), "note", text=f"recording stopped: {detail}", limit=name)
        self._fail(CLOSE_CODES.get(name, 1008), "limit exceeded")

    def _fail(self, code: int, reason: str) -> None:
        protocol = self._protocol
        if protocol is not None and protocol.state is State.OPEN:
            with contextlib.suppress(InvalidState):
                protocol.fail(code, reason)
            self._flush()
        self._schedule_abort()

    def _on_sent(self, frame: Frame) -> None:
        fields = redacted_fields(sent_fields(frame), self._redactor)
        self.transcript.add(self._clock(), "ws-frame-send", **fields)
        self._bump()

    # -- helpers -------------------------------------------------------------------------------

    def _flush(self) -> None:
        protocol, writer = self._protocol, self._writer
        if protocol is None:
            return
        for data in protocol.data_to_send():
            if writer is None or writer.is_closing():
                continue
            try:
                if data:
                    writer.write(data)
                elif writer.can_write_eof():
                    writer.write_eof()
            except (OSError, RuntimeError):
                continue

    async def _send(self, build: Callable[[ClientProtocol], None], what: str = "message") -> None:
        protocol, writer = self._protocol, self._writer
        if protocol is None or writer is None or self.ended or protocol.state is not State.OPEN:
            self._note(f"{what} not sent: connection not open")
            return
        try:
            build(protocol)
        except InvalidState as exc:
            self._note(f"{what} not sent: {exc}")
            return
        self._flush()
        try:
            await asyncio.wait_for(writer.drain(), self._close_timeout_s)
        except (OSError, TimeoutError) as exc:
            self._note(f"{what} not sent: {type(exc).__name__}")

    def _schedule_abort(self) -> None:
        if self._abort_handle is None and self._writer is not None:
            loop = asyncio.get_running_loop()
            self._abort_handle = loop.call_later(self._close_timeout_s, self._abort)

    def _abort(self) -> None:
        writer = self._writer
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.transport.abort()

    async def _wait(
        self, check: Callable[[], bool], deadline_s: float, what: str, *, stop_at_end: bool = True
    ) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + deadline_s
        while True:
            changes = self._changes
            if check():
                return True
            if changes is None or (stop_at_end and self.ended):
                return False
            if self.ended and not stop_at_end:
                return check()
            remaining = deadline - loop.time()
            if remaining <= 0:
                self._add_timeout(what, deadline_s)
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changes.current.wait(), remaining)

    def _record_response(self, response: Response) -> None:
        if record_response(self.transcript, self._clock(), response, self._redactor):
            self._bump()

    def _finish(self, how: str, detail: str) -> None:
        if self.ended:
            return
        self._add_frames(self._hold.release())
        self.transcript.add(self._clock(), "end", how=how, detail=detail)
        self._bump()

    def _note(self, text: str) -> None:
        self._add_frames(self._hold.release())
        self.transcript.add(self._clock(), "note", text=text)
        self._bump()

    def _add_timeout(self, wait: str, deadline_s: float) -> None:
        self.transcript.add(self._clock(), "timeout", wait=wait, deadline_s=deadline_s)

    def _bump(self) -> None:
        if self._changes is not None:
            self._changes.bump()
