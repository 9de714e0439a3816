"""Read the recorded Mastodon captures (``../shared/captures/<version>/<id>.jsonl``) as Transcripts.

The captures hold socket-level evidence (``send-bytes``/``recv-bytes`` with the HTTP framing,
WebSocket frames, Redis publishes). Judges read the transcript model, so this module decodes
the HTTP layer exactly the way the live recorders see it: the received bytes go through h11, a
sans-I/O HTTP/1.1 client, and every decoded body piece becomes a ``body-chunk`` stamped with the
``t`` of the socket read that carried it. A response cut before its terminating chunk (the
``crash-01`` capture) therefore ends ``incomplete``, as it would live.

Each transcript also gets the ``Meta.context`` a live run would have set (docs/ARCHITECTURE.md),
derived from the request line and the client's own WebSocket messages.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import h11

from conformance.transcript.model import Meta, Transcript

__all__ = [
    "SSE_ENDPOINTS",
    "derive_context",
    "load_capture",
    "load_captures",
    "only_media_truthy",
]

STREAMING_PREFIX = "/api/v1/streaming"

#: SSE path -> Mastodon stream name (streaming/index.js:428-454).
SSE_ENDPOINTS: dict[str, str] = {
    f"{STREAMING_PREFIX}/user": "user",
    f"{STREAMING_PREFIX}/user/notification": "user:notification",
    f"{STREAMING_PREFIX}/public": "public",
    f"{STREAMING_PREFIX}/public/local": "public:local",
    f"{STREAMING_PREFIX}/public/remote": "public:remote",
    f"{STREAMING_PREFIX}/hashtag": "hashtag",
    f"{STREAMING_PREFIX}/hashtag/local": "hashtag:local",
    f"{STREAMING_PREFIX}/list": "list",
    f"{STREAMING_PREFIX}/direct": "direct",
}
_MEDIA_CAPABLE = frozenset({"public", "public:local", "public:remote"})
_ONLY_MEDIA_FALSE = frozenset({"", "false", "0", "f", "F", "FALSE", "off", "OFF"})
_TRANSPORTS = {"sse": "sse", "http": "http", "websocket": "ws", "ws": "ws"}


def only_media_truthy(value: str | None) -> bool:
    """Mastodon's reading of ``only_media`` (streaming/index.js:430): most strings are true."""
    return value is not None and value not in _ONLY_MEDIA_FALSE


def load_captures(directory: Path) -> list[Transcript]:
    """Every ``<id>.jsonl`` capture in ``directory`` (files starting with ``_`` are indexes)."""
    paths = sorted(p for p in Path(directory).glob("*.jsonl") if not p.name.startswith("_"))
    return [load_capture(p) for p in paths]


def load_capture(path: Path) -> Transcript:
    """One capture file as a Transcript (records in capture order, ``t`` unchanged)."""
    text = Path(path).read_text("utf-8")
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    if not lines or lines[0].get("kind") != "meta":
        raise ValueError(f"{path}: first line must be the capture's meta record")
    cmeta, records = lines[0], lines[1:]
    creq = cmeta.get("request", {})
    target = creq.get("path", "/")
    method = creq.get("method") or "GET"
    headers = [list(h) for h in creq.get("headers", [])]
    capture_transport = _TRANSPORTS.get(cmeta.get("transport", ""), "http")
    transport = _transport(capture_transport, method, target)
    base_url = cmeta.get("server", {}).get("base_url", "")
    if transport == "ws":
        base_url = base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    request: dict[str, Any] = {
        "method": method,
        "path": target,
        "url": base_url + target,
        "headers": headers + _handshake_key(records) if transport == "ws" else headers,
    }
    context = derive_context(
        capture_id=cmeta["id"],
        transport=transport,
        capture_transport=capture_transport,
        method=method,
        target=target,
        headers=headers,
        sent_texts=[_frame_text(r) for r in records if r.get("kind") == "ws-frame-send"],
        has_frames=any(r.get("kind", "").startswith("ws-frame") for r in records),
    )
    meta = Meta(
        id=cmeta["id"],
        transport=transport,
        request=request,
        context=context,
        source=f"capture:{cmeta['id']}",
        server=cmeta.get("server", {}),
    )
    transcript = Transcript(meta=meta)
    _Converter(transcript, websocket=transport == "ws").run(records)
    return transcript


def _handshake_key(records: list[dict[str, Any]]) -> list[list[str]]:
    """The ``Sec-WebSocket-Key`` the capture's upgrade request sent (``ws.handshake.accept-valid``
    judges Mastodon's Accept against it); the capture meta lists only the auth headers."""
    sent = next((r for r in records if r.get("kind") == "send-bytes"), None)
    if sent is None:
        return []
    for line in _record_bytes(sent).decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-key":
            return [["Sec-WebSocket-Key", value.strip()]]
    return []


def _transport(capture_transport: str, method: str, target: str) -> str:
    if capture_transport == "ws":
        return "ws"
    path = urlsplit(target).path
    if (
        method.upper() == "GET"
        and path.startswith(STREAMING_PREFIX)
        and not path.endswith("/health")
    ):
        return "sse"  # a stream request, including the refused ones (sse-err-*)
    return "http"


def derive_context(
    *,
    capture_id: str,
    transport: str,
    capture_transport: str,
    method: str,
    target: str,
    headers: Sequence[Sequence[str]],
    sent_texts: Iterable[str | None] = (),
    has_frames: bool = False,
) -> dict[str, Any]:
    """The ``Meta.context`` a live run would have set for this request."""
    parts = urlsplit(target)
    query = parse_qsl(parts.query, keep_blank_values=True)
    first: dict[str, str] = {}
    for key, value in query:
        first.setdefault(key, value)
    header_names = {name.lower() for name, _ in headers}
    if "authorization" in header_names:
        auth = "header"
    elif "access_token" in first:
        auth = "query"
    elif "sec-websocket-protocol" in header_names:
        auth = "subprotocol"
    else:
        auth = "none"
    context: dict[str, Any] = {"endpoint": parts.path, "auth": auth, "case": capture_id}
    if transport == "http":
        context["purpose"] = "health" if parts.path.endswith("/health") else "http"
        context["stream"] = None
        context["params"] = {k: v for k, v in first.items() if k != "access_token"}
        return context
    if transport == "sse":
        stream = SSE_ENDPOINTS.get(parts.path)
        if stream in _MEDIA_CAPABLE and only_media_truthy(first.get("only_media")):
            stream = f"{stream}:media"
        context["stream"] = stream
        context["params"] = {k: v for k, v in first.items() if k != "access_token"}
        if capture_transport == "sse":
            context["purpose"] = "stream"
            context["expect_status"] = 200
        else:
            context["purpose"] = "error"  # recorded as a refused request
        return context
    context["stream"] = first.get("stream")
    context["params"] = {k: v for k, v in first.items() if k not in {"access_token", "stream"}}
    context["purpose"] = "stream" if has_frames else "handshake"
    if has_frames:
        context["expect_status"] = 101
    context["subscriptions"] = _subscriptions(sent_texts)
    return context


def _subscriptions(texts: Iterable[str | None]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for text in texts:
        if not text:
            continue
        try:
            obj = json.loads(text)
        except ValueError:
            continue
        if not isinstance(obj, dict) or obj.get("type") != "subscribe":
            continue
        sub: dict[str, Any] = {"stream": obj.get("stream")}
        for key in ("tag", "list"):
            if key in obj:
                sub[key] = obj[key]
        out.append(sub)
    return out


def _frame_text(record: dict[str, Any]) -> str | None:
    if record.get("opcode") != "text":
        return None
    return _record_bytes(record).decode("utf-8", errors="replace")


def _record_bytes(record: dict[str, Any]) -> bytes:
    if record.get("data") is not None:
        return str(record["data"]).encode("utf-8")
    if record.get("data_b64"):
        return base64.b64decode(record["data_b64"])
    return b""


_FRAME_EXTRAS = ("fin", "rsv", "masked", "length", "header_hex")


class _Converter:
    """Turns capture records into transcript records, decoding HTTP through an h11 client."""

    def __init__(self, transcript: Transcript, *, websocket: bool) -> None:
        self.transcript = transcript
        self.websocket = websocket
        self.client = h11.Connection(h11.CLIENT)
        self.request_sent = False
        self.switched = False

    @property
    def ended(self) -> bool:
        return self.transcript.end is not None

    def run(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            handler = getattr(self, "_on_" + record.get("kind", "").replace("-", "_"), None)
            if handler is not None:
                handler(record, float(record.get("t", 0.0)))
        if not self.ended and self.transcript.records and self._saw_connection():
            last_t = self.transcript.records[-1].t
            self._end(last_t, "client-close", "capture ended without the server closing")

    def _saw_connection(self) -> bool:
        return any(r.kind == "connect" for r in self.transcript.records)

    # capture record kinds ---------------------------------------------------------------------

    def _on_tcp_connect(self, record: dict[str, Any], t: float) -> None:
        self.transcript.add(t, "connect")

    def _on_send_bytes(self, record: dict[str, Any], t: float) -> None:
        if self.request_sent:
            return
        self.request_sent = True
        try:
            for event in _parse_request(_record_bytes(record)):
                self.client.send(event)
        except h11.ProtocolError as exc:
            self.transcript.add(t, "note", text=f"capture request not understood by h11: {exc}")

    def _on_recv_bytes(self, record: dict[str, Any], t: float) -> None:
        if self.switched or self.ended:
            return
        try:
            self.client.receive_data(_record_bytes(record))
        except RuntimeError as exc:
            self._end(t, "error", f"h11: {exc}")
            return
        self._pump(t)

    def _on_eof(self, record: dict[str, Any], t: float) -> None:
        if not self.switched and not self.ended:
            with contextlib.suppress(RuntimeError):
                self.client.receive_data(b"")
            self._pump(t)
        if not self.ended:
            how = "eof" if self.switched or self.websocket else "incomplete"
            detail = "" if how == "eof" else "server closed the connection mid-message"
            self._end(t, how, detail)

    def _on_client_close(self, record: dict[str, Any], t: float) -> None:
        if not self.ended:
            self._end(t, "client-close", "")

    def _on_ws_frame_recv(self, record: dict[str, Any], t: float) -> None:
        self._frame("ws-frame-recv", record, t)

    def _on_ws_frame_send(self, record: dict[str, Any], t: float) -> None:
        self._frame("ws-frame-send", record, t)

    def _on_redis_publish(self, record: dict[str, Any], t: float) -> None:
        detail = {
            "channel": record.get("channel"),
            "message": record.get("message"),
            "receivers": record.get("receivers"),
        }
        self.transcript.add(t, "stimulus", action="redis-publish", detail=detail, marker=None)

    def _on_redis_state(self, record: dict[str, Any], t: float) -> None:
        detail = {k: v for k, v in record.items() if k not in {"t", "kind"}}
        self.transcript.add(t, "note", text="redis-state", detail=detail)

    def _on_note(self, record: dict[str, Any], t: float) -> None:
        self.transcript.add(t, "note", text=str(record.get("text", "")))

    # helpers ----------------------------------------------------------------------------------

    def _frame(self, kind: str, record: dict[str, Any], t: float) -> None:
        fields: dict[str, Any] = {"opcode": record.get("opcode"), "data": _record_bytes(record)}
        for key in _FRAME_EXTRAS:
            if key in record:
                fields[key] = record[key]
        if record.get("opcode") == "close":
            fields["close_code"] = record.get("close_code")
            fields["close_reason"] = record.get("close_reason") or ""
        self.transcript.add(t, kind, **fields)

    def _pump(self, t: float) -> None:
        while not self.ended:
            try:
                event = self.client.next_event()
            except h11.RemoteProtocolError as exc:
                how = "incomplete" if self.transcript.head is not None else "error"
                self._end(t, how, f"h11: {exc}")
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                if self.client.their_state is h11.SWITCHED_PROTOCOL:
                    self.switched = True
                return
            if isinstance(event, h11.Response | h11.InformationalResponse):
                self._head(event, t)
            elif isinstance(event, h11.Data):
                self.transcript.add(t, "body-chunk", data=bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                if not self.websocket:
                    self._end(t, "eof", "")
                    return
            elif isinstance(event, h11.ConnectionClosed):
                return

    def _head(self, event: h11.Response | h11.InformationalResponse, t: float) -> None:
        headers = [
            [name.decode("latin-1"), value.decode("latin-1")]
            for name, value in event.headers.raw_items()
        ]
        self.transcript.add(
            t,
            "response-head",
            status=event.status_code,
            reason=event.reason.decode("latin-1"),
            http_version="HTTP/" + event.http_version.decode("ascii"),
            headers=headers,
        )
        if event.status_code == 101:
            self.switched = True

    def _end(self, t: float, how: str, detail: str) -> None:
        self.transcript.add(t, "end", how=how, detail=detail)


def _parse_request(data: bytes) -> list[h11.Request | h11.Data | h11.EndOfMessage]:
    """The client's request as h11 events (parsed with a server-side h11 connection)."""
    server = h11.Connection(h11.SERVER)
    server.receive_data(data)
    events: list[h11.Request | h11.Data | h11.EndOfMessage] = []
    while True:
        event = server.next_event()
        if isinstance(event, h11.Request):
            events.append(
                h11.Request(
                    method=event.method,
                    target=event.target,
                    headers=list(event.headers.raw_items()),
                    http_version=event.http_version,
                )
            )
        elif isinstance(event, h11.Data):
            events.append(h11.Data(data=event.data))
        elif isinstance(event, h11.EndOfMessage):
            events.append(h11.EndOfMessage())
            return events
        else:  # NEED_DATA, PAUSED: the request is as complete as it will get
            return events
