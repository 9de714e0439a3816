"""The WebSocket recorder's wire pieces: frame fields, TLS context, the recording protocol."""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response

from conformance import __version__
from conformance.redact import Redactor
from conformance.transcript.model import Transcript
from conformance.ws.frames import RawFrame, opcode_name

if TYPE_CHECKING:
    from conformance.transports.ws import WSRecorder

USER_AGENT = f"mastodon-streaming-conformance/{__version__}"
TokenVia = Literal["query", "header", "subprotocol", "none"]


def close_fields(data: bytes) -> dict[str, Any]:
    """``close_code`` and ``close_reason`` of a close payload, read leniently (judges decide)."""
    code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
    return {"close_code": code, "close_reason": data[2:].decode("utf-8", errors="replace")}


def frame_fields(frame: RawFrame) -> dict[str, Any]:
    """Transcript fields of one received frame, every header bit as it came."""
    fields: dict[str, Any] = {
        "opcode": frame.name,
        "data": frame.payload,
        "fin": frame.fin,
        "rsv": frame.rsv,
        "masked": frame.masked,
        "length": frame.length,
        "header_hex": frame.header.hex(),
    }
    if frame.name == "reserved":
        fields["opcode_value"] = frame.opcode
    if frame.oversized:
        fields["oversized"] = True
    if frame.name == "close":
        fields.update(close_fields(frame.payload))
    return fields


def sent_fields(frame: Frame) -> dict[str, Any]:
    """Transcript fields of a frame the suite sent (always masked, as RFC 6455 §5.3 wants)."""
    data = bytes(frame.data)
    fields: dict[str, Any] = {
        "opcode": opcode_name(int(frame.opcode)),
        "data": data,
        "fin": frame.fin,
        "rsv": 0,
        "masked": True,
        "length": len(data),
    }
    if frame.opcode is Opcode.CLOSE:
        fields.update(close_fields(data))
    return fields


def response_head(response: Response, redactor: Redactor) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "reason": response.reason_phrase,
        "http_version": "HTTP/1.1",
        "headers": redactor.headers(response.headers.raw_items()),
    }


def ssl_context(verify_tls: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class RecordingProtocol(ClientProtocol):
    """``ClientProtocol`` that reports every frame it sends and can withhold pongs."""

    def __init__(self, *args: Any, recorder: WSRecorder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recorder = recorder

    def request(self, extra: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], bytes]:
        """The opening handshake request: its headers (as recorded) and its bytes."""
        request = self.connect()
        request.headers["User-Agent"] = USER_AGENT
        for name, value in extra:
            request.headers[name] = value
        return list(request.headers.raw_items()), request.serialize()

    def send_frame(self, frame: Frame) -> None:
        if frame.opcode is Opcode.PONG and not self._recorder.answer_pings:
            self._recorder._note("pong withheld (answer_pings=False)")
            return
        if frame.opcode is Opcode.PONG and self._recorder._pongs_stopped:
            return
        self._recorder._on_sent(frame)
        super().send_frame(frame)


def request_parts(
    url: str, headers: list[tuple[str, str]], token: str | None, via: TokenVia
) -> tuple[str, list[tuple[str, str]], list[str]]:
    # A Sec-WebSocket-Protocol header is an offer the protocol must know about (it checks the
    # server's choice against it), so it travels as subprotocols, not as a raw header.
    subprotocols = [
        p.strip()
        for name, value in headers
        if name.lower() == "sec-websocket-protocol"
        for p in value.split(",")
        if p.strip()
    ]
    headers = [(n, v) for n, v in headers if n.lower() != "sec-websocket-protocol"]
    if token and via == "query":
        parts = urlsplit(url)
        extra = "access_token=" + quote(token, safe="")
        query = f"{parts.query}&{extra}" if parts.query else extra
        url = urlunsplit(parts._replace(query=query))
    elif token and via == "header":
        headers = [*headers, ("Authorization", f"Bearer {token}")]
    elif token and via == "subprotocol":
        subprotocols = [token, *(p for p in subprotocols if p != token)]
    return url, headers, subprotocols


def redacted_fields(fields: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """A frame's recorded fields with its payload and close reason redacted (in place)."""
    fields["data"] = redactor.bytes(fields["data"])
    if "close_reason" in fields:
        fields["close_reason"] = redactor.text(fields["close_reason"])
    return fields


def record_response(
    transcript: Transcript, t: float, response: Response, redactor: Redactor
) -> bool:
    """Record the upgrade's answer (head, then any body) once; False if one was recorded."""
    if transcript.head is not None:
        return False
    transcript.add(t, "response-head", **response_head(response, redactor))
    if response.body:
        transcript.add(t, "body-chunk", data=redactor.bytes(bytes(response.body)))
    return True
