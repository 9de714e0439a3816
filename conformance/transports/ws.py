"""WebSocket recorder over the ``websockets`` asyncio client, hooked in at the frame level.

``websockets`` hides control frames from its message API and answers pings by itself. A judge
needs them all (Mastodon pings every 30 s and cuts clients that do not pong), so the recorder
wraps the sans-I/O protocol's ``recv_frame``/``send_frame``: every frame both ways is recorded
with its time, and pongs can be withheld (``answer_pings=False``) to observe the server's
liveness check. The handshake response (or a refused upgrade's status, headers and body) comes
from the same layer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, ProtocolError
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Response

from conformance.redact import Redactor, secrets_from_request
from conformance.transcript.model import Meta, Record, Transcript
from conformance.transports._shared import (
    Changes,
    Clock,
    HeadersArg,
    header_list,
    is_reset,
    new_transcript,
)
from conformance.ws.messages import ServerMessage, parse_server_text

__all__ = ["OPCODE_NAMES", "TokenVia", "WSRecorder"]

TokenVia = Literal["query", "header", "subprotocol", "none"]

OPCODE_NAMES: dict[Opcode, str] = {
    Opcode.CONT: "continuation",
    Opcode.TEXT: "text",
    Opcode.BINARY: "binary",
    Opcode.CLOSE: "close",
    Opcode.PING: "ping",
    Opcode.PONG: "pong",
}

WSPredicate = Callable[[Sequence[ServerMessage]], bool]
RecordPredicate = Callable[[Sequence[Record]], bool]


def frame_fields(frame: Frame) -> dict[str, Any]:
    """Transcript fields of one frame: opcode name, unmasked payload, close code and reason."""
    data = bytes(frame.data)
    fields: dict[str, Any] = {
        "opcode": OPCODE_NAMES.get(frame.opcode, str(frame.opcode)),
        "data": data,
        "fin": frame.fin,
        "rsv": (frame.rsv1 << 2) | (frame.rsv2 << 1) | int(frame.rsv3),
    }
    if frame.opcode is Opcode.CLOSE:
        code: int | None = None
        reason = ""
        if data:
            try:
                close = Close.parse(data)
                code, reason = int(close.code), close.reason
            except (ProtocolError, UnicodeDecodeError, ValueError):
                code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                reason = data[2:].decode("utf-8", errors="replace")
        fields["close_code"] = code
        fields["close_reason"] = reason
    return fields


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
        max_size: int | None = 16 << 20,
    ) -> None:
        self.answer_pings = answer_pings
        self._open_timeout_s = open_timeout_s
        self._close_timeout_s = close_timeout_s
        self._max_size = max_size
        self._token_via: TokenVia = token_via if token else "none"
        self._url, self._headers, self._subprotocols = _request_parts(
            url, header_list(headers), token, self._token_via
        )
        request_headers = list(self._headers)
        if self._subprotocols:
            request_headers.append(("Sec-WebSocket-Protocol", ", ".join(self._subprotocols)))
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
        self._conn: ClientConnection | None = None
        self._drain: asyncio.Task[None] | None = None
        self._messages: list[ServerMessage] = []
        self._fragments: list[bytes] | None = None
        self._closing = False
        self._started = False

    # -- public API ----------------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.transcript.end is not None

    @property
    def open(self) -> bool:
        return self._conn is not None and not self.ended

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
        try:
            self._conn = await connect(
                self._url,
                additional_headers=self._headers or None,
                subprotocols=self._subprotocols or None,  # type: ignore[arg-type]
                open_timeout=self._open_timeout_s,
                ping_interval=None,
                ping_timeout=None,
                close_timeout=self._close_timeout_s,
                max_size=self._max_size,
                compression=None,
                create_connection=self._connection_class(),
            )
        except InvalidStatus as exc:
            self._record_response(exc.response)
            self._finish("eof", f"upgrade refused: HTTP {exc.response.status_code}")
            return
        except InvalidHandshake as exc:
            self._finish("error", self._redactor.text(f"handshake failed: {exc!r}"))
            return
        except TimeoutError:
            self._add_timeout("opening handshake", self._open_timeout_s)
            self._finish("deadline", f"open timeout {self._open_timeout_s}s")
            return
        except OSError as exc:
            how = "reset" if is_reset(exc) else "error"
            self._finish(how, self._redactor.text(f"connect failed: {exc!r}"))
            return
        except Exception as exc:
            self._finish("error", self._redactor.text(f"connect failed: {exc!r}"))
            return
        self._drain = asyncio.create_task(self._drain_messages())

    async def send_text(self, text: str) -> None:
        await self._send(text)

    async def send_binary(self, data: bytes) -> None:
        await self._send(bytes(data))

    async def ping(self, data: bytes = b"") -> None:
        """Send a ping; the server's pong shows up as a ``ws-frame-recv`` record."""
        conn = self._conn
        if conn is None or self.ended:
            self._note("ping not sent: connection not open")
            return
        try:
            await conn.ping(data)
        except ConnectionClosed as exc:
            self._note(f"ping not sent: {exc}")

    async def wait_for(
        self, predicate: WSPredicate, deadline_s: float, *, what: str | None = None
    ) -> bool:
        """Wait until ``predicate(items())`` holds; False if the connection ended or at deadline."""
        return await self._wait(
            lambda: predicate(self._messages), deadline_s, what or _describe(predicate)
        )

    async def wait_for_records(
        self, predicate: RecordPredicate, deadline_s: float, *, what: str | None = None
    ) -> bool:
        """Like ``wait_for`` over the transcript records (pings, close frames, the end)."""
        return await self._wait(
            lambda: predicate(self.transcript.records),
            deadline_s,
            what or _describe(predicate),
            stop_at_end=False,
        )

    async def wait_closed(self, deadline_s: float) -> bool:
        """Wait until the connection ended (server close, reset, ...)."""
        return await self._wait(lambda: self.ended, deadline_s, "connection end")

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake and wait (bounded) for the TCP close; records the end."""
        self._closing = True
        conn = self._conn
        if conn is not None and not self.ended:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(code, reason), self._close_timeout_s + 1.0)
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._drain
        self._finish("client-close", "closed by the suite")

    # -- recording hooks -----------------------------------------------------------------------

    def _connection_class(self) -> type[ClientConnection]:
        recorder = self

        class RecordingConnection(ClientConnection):
            def __init__(self, protocol: Any, **kwargs: Any) -> None:
                super().__init__(protocol, **kwargs)
                recv_frame, send_frame = protocol.recv_frame, protocol.send_frame

                def hooked_recv(frame: Frame) -> None:
                    recorder._on_frame("ws-frame-recv", frame)
                    recv_frame(frame)

                def hooked_send(frame: Frame) -> None:
                    if frame.opcode is Opcode.PONG and not recorder.answer_pings:
                        recorder._note("pong withheld (answer_pings=False)")
                        return
                    recorder._on_frame("ws-frame-send", frame)
                    send_frame(frame)

                protocol.recv_frame = hooked_recv
                protocol.send_frame = hooked_send

            def connection_made(self, transport: Any) -> None:
                recorder._on_connect()
                super().connection_made(transport)

            def process_event(self, event: Any) -> None:
                if isinstance(event, Response) and self.response is None:
                    recorder._record_response(event)
                super().process_event(event)

            def connection_lost(self, exc: Exception | None) -> None:
                recorder._on_lost(exc, self.protocol.parser_exc)
                super().connection_lost(exc)

        return RecordingConnection

    def _on_connect(self) -> None:
        self._clock.start()
        self.transcript.add(0.0, "connect")
        self._bump()

    def _record_response(self, response: Response) -> None:
        if self.transcript.head is not None:
            return
        t = self._clock()
        self.transcript.add(
            t,
            "response-head",
            status=response.status_code,
            reason=response.reason_phrase,
            http_version="HTTP/1.1",
            headers=self._redactor.headers(response.headers.raw_items()),
        )
        if response.body:
            self.transcript.add(t, "body-chunk", data=self._redactor.bytes(bytes(response.body)))
        self._bump()

    def _on_frame(self, kind: str, frame: Frame) -> None:
        fields = frame_fields(frame)
        fields["data"] = self._redactor.bytes(fields["data"])
        if "close_reason" in fields:
            fields["close_reason"] = self._redactor.text(fields["close_reason"])
        self.transcript.add(self._clock(), kind, **fields)
        if kind == "ws-frame-recv":
            self._collect_message(frame.opcode, fields["data"], frame.fin)
        self._bump()

    def _collect_message(self, opcode: Opcode, data: bytes, fin: bool) -> None:
        if opcode is Opcode.TEXT:
            self._fragments = [data]
        elif opcode is Opcode.CONT and self._fragments is not None:
            self._fragments.append(data)
        else:
            if opcode is Opcode.BINARY:
                self._fragments = None
            return
        if fin and self._fragments is not None:
            text = b"".join(self._fragments).decode("utf-8", errors="replace")
            self._fragments = None
            self._messages.append(parse_server_text(text))

    def _on_lost(self, exc: Exception | None, parser_exc: Exception | None) -> None:
        if self._closing:
            how = "client-close"
        elif exc is None:
            how = "eof"
        elif is_reset(exc):
            how = "reset"
        else:
            how = "error"
        detail = "" if exc is None else f"{type(exc).__name__}: {exc}"
        if parser_exc is not None:
            detail = (detail + "; " if detail else "") + f"protocol error: {parser_exc}"
        self._finish(how, self._redactor.text(detail))

    # -- helpers -------------------------------------------------------------------------------

    async def _send(self, message: str | bytes) -> None:
        conn = self._conn
        if conn is None or self.ended:
            self._note("message not sent: connection not open")
            return
        try:
            await asyncio.wait_for(conn.send(message), self._close_timeout_s)
        except (ConnectionClosed, TimeoutError) as exc:
            self._note(f"message not sent: {type(exc).__name__}")

    async def _drain_messages(self) -> None:
        # Frames are recorded by the hooks; draining keeps websockets' message queue from
        # filling up and pausing the socket reads.
        conn = self._conn
        assert conn is not None
        with contextlib.suppress(ConnectionClosed):
            while True:
                await conn.recv()

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

    def _finish(self, how: str, detail: str) -> None:
        if self.ended:
            return
        self.transcript.add(self._clock(), "end", how=how, detail=detail)
        self._bump()

    def _note(self, text: str) -> None:
        self.transcript.add(self._clock(), "note", text=text)
        self._bump()

    def _add_timeout(self, wait: str, deadline_s: float) -> None:
        self.transcript.add(self._clock(), "timeout", wait=wait, deadline_s=deadline_s)

    def _bump(self) -> None:
        if self._changes is not None:
            self._changes.bump()


def _request_parts(
    url: str, headers: list[tuple[str, str]], token: str | None, via: TokenVia
) -> tuple[str, list[tuple[str, str]], list[str]]:
    subprotocols: list[str] = []
    if token and via == "query":
        parts = urlsplit(url)
        extra = "access_token=" + quote(token, safe="")
        query = f"{parts.query}&{extra}" if parts.query else extra
        url = urlunsplit(parts._replace(query=query))
    elif token and via == "header":
        headers = [*headers, ("Authorization", f"Bearer {token}")]
    elif token and via == "subprotocol":
        subprotocols = [token]
    return url, headers, subprotocols


def _describe(predicate: Callable[..., object]) -> str:
    return getattr(predicate, "__qualname__", None) or repr(predicate)
