"""What checks read: one transcript, parsed once, with the request-side facts derived from it.

Everything here is derived from the transcript alone (meta + records), never from a network. The
*expectations* a check uses come from the request side (meta.request, meta.context, the frames we
sent), never from the response being judged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conformance.judge.ws_assembly import WSAssembly, assemble_ws
from conformance.judge.ws_rules import protocol_problems
from conformance.sse.parser import SSEParse, parse_sse_transcript
from conformance.transcript.model import Meta, Record, Transcript
from conformance.ws.messages import ServerMessage, parse_server_text

DEFAULT_HEARTBEAT_TIMEOUT_S = 20.0
SSE_PREFIX = "/api/v1/streaming/"

#: Mastodon's stream names (mastodon-streaming.md §2).
KNOWN_STREAMS = frozenset(
    {
        "user",
        "user:notification",
        "public",
        "public:media",
        "public:local",
        "public:local:media",
        "public:remote",
        "public:remote:media",
        "hashtag",
        "hashtag:local",
        "list",
        "direct",
    }
)
PUBLIC_STREAM_PREFIXES = ("public", "hashtag")
_MEDIA_FALSE = {"", "false", "0", "f", "F", "FALSE", "off", "OFF"}


def stream_of(meta: Meta) -> str | None:
    """The stream the request asked for: context first, else derived from the SSE path/WS query."""
    value = meta.context.get("stream")
    if isinstance(value, str) and value:
        return value
    path, query = request_target(meta)
    if path.startswith(SSE_PREFIX) and meta.transport != "ws":
        name = path[len(SSE_PREFIX) :].strip("/").replace("/", ":")
        if name in ("public", "public:local", "public:remote"):
            media = query.get("only_media", [""])[0]
            if media not in _MEDIA_FALSE:
                name += ":media"
        return name or None
    streams = query.get("stream")
    return streams[0] if streams else None


def request_target(meta: Meta) -> tuple[str, dict[str, list[str]]]:
    """(path, parsed query) of the request, from ``path`` or ``url`` in meta.request."""
    raw = meta.request.get("path") or meta.request.get("url") or ""
    parts = urlsplit(str(raw))
    query = parse_qs(parts.query, keep_blank_values=True)
    params = meta.context.get("params")
    if isinstance(params, dict):
        for key, value in params.items():
            query.setdefault(str(key), [str(value)])
    return parts.path, query


def request_headers(meta: Meta) -> list[tuple[str, str]]:
    headers = meta.request.get("headers") or []
    out: list[tuple[str, str]] = []
    if isinstance(headers, dict):
        headers = list(headers.items())
    for item in headers:
        if isinstance(item, list | tuple) and len(item) == 2:
            out.append((str(item[0]), str(item[1])))
    return out


def request_header(meta: Meta, name: str) -> str | None:
    lname = name.lower()
    for key, value in request_headers(meta):
        if key.lower() == lname:
            return value
    return None


def auth_of(meta: Meta) -> str:
    """Where the token was sent: context ``auth``, else the request (Mastodon's precedence)."""
    value = meta.context.get("auth")
    if isinstance(value, str) and value:
        return value
    if request_header(meta, "Authorization") is not None:
        return "header"
    _, query = request_target(meta)
    if "access_token" in query:
        return "query"
    if request_header(meta, "Sec-WebSocket-Protocol") is not None:
        return "subprotocol"
    return "none"


def is_public_stream(name: str | None) -> bool:
    return bool(name) and str(name).startswith(PUBLIC_STREAM_PREFIXES)


@dataclass(frozen=True, slots=True)
class Delivered:
    """One event as a client sees it, transport-neutral.

    SSE: ``payload`` is the data text (None without a data line). WS: ``payload`` is the JSON
    value of the ``payload`` key (any type), ``present`` False when the key is absent.
    """

    transport: str
    name: str
    payload: Any
    present: bool
    t: float
    raw: Any
    stream: list[Any] | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    """A stream the client asked for, with the param as sent (tag or list id, any JSON type)."""

    name: str
    param: Any = None
    t: float = 0.0
    source: str = "query"  # query | message | context


class JudgeContext:
    """A transcript plus cached parses and request-derived facts."""

    def __init__(
        self,
        transcript: Transcript,
        *,
        server_version: str | None = None,
        validator: Any = None,
        long: bool = False,
    ) -> None:
        self.transcript = transcript
        self.meta = transcript.meta
        self.context = transcript.meta.context
        self.server_version = server_version or _version_from_meta(transcript.meta)
        self._validator = validator
        self.long = long

    # -- request side ------------------------------------------------------------------------

    @property
    def purpose(self) -> str | None:
        value = self.context.get("purpose")
        return value if isinstance(value, str) else None

    @cached_property
    def stream(self) -> str | None:
        return stream_of(self.meta)

    @cached_property
    def auth(self) -> str:
        return auth_of(self.meta)

    @property
    def heartbeat_timeout_s(self) -> float:
        value = self.context.get("heartbeat_timeout_s")
        return (
            float(value)
            if isinstance(value, int | float) and value > 0
            else (DEFAULT_HEARTBEAT_TIMEOUT_S)
        )

    @property
    def timeout_multiplier(self) -> float:
        """The run's ``--timeout-multiplier`` (``judge.tolerances``; 1 when not recorded)."""
        from conformance.judge.tolerances import multiplier_of

        return multiplier_of(self.context)

    @property
    def validator(self) -> Any:
        if self._validator is None:
            from conformance.payloads import PayloadValidator

            self._validator = PayloadValidator.default()
        return self._validator

    # -- response side -----------------------------------------------------------------------

    @property
    def head(self) -> Record | None:
        return self.transcript.head

    @property
    def status(self) -> int | None:
        head = self.head
        if head is None:
            return None
        value = head.fields.get("status")
        return value if isinstance(value, int) else None

    def header(self, name: str) -> str | None:
        return self.transcript.header(name)

    @property
    def recorded(self) -> bool:
        """Whether any connection-level record exists (a capture may hold only notes)."""
        return any(r.kind not in ("note", "stimulus", "timeout") for r in self.transcript.records)

    @property
    def end(self) -> Record | None:
        return self.transcript.end

    @property
    def end_how(self) -> str | None:
        end = self.end
        return end.fields.get("how") if end is not None else None

    @property
    def head_t(self) -> float:
        head = self.head
        return head.t if head is not None else 0.0

    @property
    def last_t(self) -> float:
        """When the recording stopped (end record, else the last record)."""
        end = self.end
        if end is not None:
            return end.t
        return self.transcript.records[-1].t if self.transcript.records else 0.0

    @cached_property
    def body(self) -> bytes:
        return self.transcript.body

    @cached_property
    def sse(self) -> SSEParse:
        return parse_sse_transcript(self.transcript)

    @cached_property
    def ws_frames(self) -> list[Record]:
        """Every received frame exactly as recorded (fragments included): the evidence."""
        return list(self.transcript.of_kind("ws-frame-recv"))

    @cached_property
    def ws_assembly(self) -> WSAssembly:
        """Received frames reassembled into messages (RFC 6455 §5.4), in completion order."""
        return assemble_ws(self.ws_frames)

    @cached_property
    def ws_received(self) -> list[tuple[Record, ServerMessage | None]]:
        """Every received *message* and control frame, in order; text messages with their parse
        (None for other opcodes and for text that is not UTF-8). A message that came in several
        frames is one record here (``frames`` > 1, ``t`` of its last fragment): judges judge
        messages, never fragments. Messages never finished are left to the framing checks."""
        out: list[tuple[Record, ServerMessage | None]] = []
        for record in self.ws_assembly.items:
            parsed: ServerMessage | None = None
            if record.fields.get("opcode") == "text":
                try:
                    text = record.data.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
                if text is not None:
                    parsed = parse_server_text(text)
            out.append((record, parsed))
        return out

    @cached_property
    def ws_protocol_problems(self) -> list[str]:
        """RFC 6455 violations seen on this connection (``judge/ws_protocol.py`` judges each by
        its own id); checks of the connection's later behaviour do not pass when this is set."""
        return protocol_problems(self)

    @cached_property
    def ws_sent(self) -> list[Record]:
        return list(self.transcript.of_kind("ws-frame-send"))

    @cached_property
    def delivered_events(self) -> list[Delivered]:
        from conformance.ws.messages import StreamMessage

        out: list[Delivered] = []
        if self.meta.transport == "ws":
            for record, parsed in self.ws_received:
                if isinstance(parsed, StreamMessage) and parsed.event is not None:
                    out.append(
                        Delivered(
                            "ws",
                            parsed.event,
                            parsed.payload,
                            parsed.payload_present,
                            record.t,
                            parsed.raw,
                            parsed.stream,
                        )
                    )
        else:
            for ev in self.sse.events:
                out.append(
                    Delivered(
                        "sse",
                        ev.event,
                        ev.data if ev.has_data else None,
                        ev.has_data,
                        ev.t,
                        ev.raw,
                        None,
                    )
                )
        return out

    def delivered(self, *names: str) -> list[Delivered]:
        if not names:
            return list(self.delivered_events)
        return [d for d in self.delivered_events if d.name in names]

    # -- WebSocket request side ---------------------------------------------------------------

    @cached_property
    def sent_messages(self) -> list[tuple[Record, Any]]:
        """Text frames we sent, JSON-decoded where possible (else the text)."""
        out: list[tuple[Record, Any]] = []
        for record in self.ws_sent:
            if record.fields.get("opcode") != "text":
                continue
            text = record.data.decode("utf-8", errors="replace")
            try:
                out.append((record, json.loads(text)))
            except ValueError:
                out.append((record, text))
        return out

    @cached_property
    def subscriptions(self) -> list[Subscription]:
        """Every stream the client asked for: WS query, context, subscribe messages sent."""
        subs: list[Subscription] = []
        if self.meta.transport != "ws":
            return subs
        _, query = request_target(self.meta)
        tag = query.get("tag", [None])[0]
        list_id = query.get("list", [None])[0]
        for name in query.get("stream", []):
            subs.append(Subscription(name, _param_for(name, tag, list_id), 0.0, "query"))
        for item in self.context.get("subscriptions") or []:
            if isinstance(item, dict) and isinstance(item.get("stream"), str):
                name = item["stream"]
                subs.append(
                    Subscription(
                        name, _param_for(name, item.get("tag"), item.get("list")), 0.0, "context"
                    )
                )
        for record, msg in self.sent_messages:
            if isinstance(msg, dict) and msg.get("type") == "subscribe":
                streams = msg.get("stream")
                names = streams if isinstance(streams, list) else [streams]
                for name in names:
                    if isinstance(name, str):
                        subs.append(
                            Subscription(
                                name,
                                _param_for(name, msg.get("tag"), msg.get("list")),
                                record.t,
                                "message",
                            )
                        )
        return subs

    def param_label(self) -> str:
        return param_label(self.meta)


def _param_for(name: str, tag: Any, list_id: Any) -> Any:
    if name in ("hashtag", "hashtag:local"):
        return tag
    if name == "list":
        return list_id
    return None


def _version_from_meta(meta: Meta) -> str | None:
    value = meta.server.get("version") if isinstance(meta.server, dict) else None
    return value if isinstance(value, str) else None


def param_label(meta: Meta) -> str:
    case = meta.context.get("case")
    if isinstance(case, str) and case:
        return case
    return f"{meta.transport}-{stream_of(meta) or '-'}"


def result_id(requirement: str, meta: Meta, event: str | None = None) -> str:
    label = param_label(meta)
    if event:
        label = f"{label}-{event}"
    return f"{requirement}[{label}]"
