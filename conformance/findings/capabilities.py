"""What the target offers, read from the recorded transcripts: transports, each stream on each
transport, the health endpoint, multiplexing, error frames and the token sources it accepts.

Only structured data is read: a transcript's ``context`` (what the recorder intended: purpose,
stream, auth, subscriptions, expected error) and its records (the response status, the WebSocket
frames). No verdict and no message text is consulted, so a capability is observed the same way
live and in replay. A stream counts as offered on a transport when any connection that asked
for it was answered (SSE 200; WebSocket 101 with no error frame before the first event); a
404 means not offered, any other refusal is ``refused`` with its status.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from conformance.findings.model import NO, REFUSED, UNKNOWN, YES, Availability, Capabilities
from conformance.transcript.model import Transcript
from conformance.ws.messages import ErrorMessage, StreamMessage, parse_server_text

__all__ = ["detect_capabilities", "is_transport_transcript", "stream_of"]

TOKEN_SOURCES = ("header", "query", "subprotocol")
HEALTH_PATH = "/api/v1/streaming/health"


def stream_of(transcript: Transcript) -> str | None:
    stream = transcript.meta.context.get("stream")
    return stream if isinstance(stream, str) and stream else None


def _status(transcript: Transcript) -> int | None:
    head = transcript.head
    status = head.fields.get("status") if head is not None else None
    return status if isinstance(status, int) else None


def _ws_texts(transcript: Transcript) -> Iterable[Any]:
    for record in transcript.of_kind("ws-frame-recv"):
        if record.fields.get("opcode") == "text":
            try:
                yield parse_server_text(record.data.decode("utf-8", errors="replace"))
            except Exception:  # a frame we cannot read says nothing about capability
                continue


def is_transport_transcript(transcript: Transcript, transport: str) -> bool:
    """Whether a connection used ``transport``: SSE includes the plain requests to SSE paths
    (the refusal probes), never the health endpoint."""
    meta = transcript.meta
    if transport == "sse":
        endpoint = meta.context.get("endpoint")
        if meta.transport == "sse":
            return True
        return (
            isinstance(endpoint, str)
            and endpoint.startswith("/api/v1/streaming")
            and endpoint != HEALTH_PATH
            and meta.context.get("purpose") in ("error", "stream")
        )
    return meta.transport == transport


def _answer(transcript: Transcript) -> Availability:
    """One stream connection's answer: offered, not offered, refused, or unknown."""
    status = _status(transcript)
    tid = (transcript.meta.id,)
    if status is None:
        return Availability(UNKNOWN, None, "no response", tid)
    ok = 101 if transcript.meta.transport == "ws" else 200
    if status == 404:
        return Availability(NO, status, "404 Not Found", tid)
    if status != ok:
        return Availability(REFUSED, status, f"answered {status}", tid)
    if transcript.meta.transport == "ws":
        for message in _ws_texts(transcript):
            if isinstance(message, StreamMessage):
                break
            if isinstance(message, ErrorMessage):
                state = NO if message.status in (None, 400, 404) else REFUSED
                return Availability(state, message.status, f"error frame: {message.error}", tid)
    return Availability(YES, status, "", tid)


def combine(answers: list[Availability]) -> Availability:
    """Several connections asked the same question: any yes is yes; else all-404 is no; else
    the most common refusal."""
    names = tuple(t for a in answers for t in a.transcripts)
    if not answers:
        return Availability(UNKNOWN)
    if any(a.state == YES for a in answers):
        first = next(a for a in answers if a.state == YES)
        return Availability(YES, first.status, "", names)
    known = [a for a in answers if a.state != UNKNOWN]
    if not known:
        return Availability(UNKNOWN, None, answers[0].detail, names)
    if all(a.state == NO for a in known):
        return Availability(NO, known[0].status, known[0].detail, names)
    refusals = [a for a in known if a.state == REFUSED] or known
    status, _ = Counter(a.status for a in refusals).most_common(1)[0]
    detail = next(a.detail for a in refusals if a.status == status)
    return Availability(REFUSED, status, detail, names)


def _is_plain_stream(transcript: Transcript) -> bool:
    context = transcript.meta.context
    return (
        context.get("purpose") == "stream"
        and not context.get("expect_error")
        and not context.get("only")
        and context.get("expect_status") in (None, 101, 200)
    )


def _multiplexing(transcripts: list[Transcript]) -> Availability:
    answers = []
    for transcript in transcripts:
        subscriptions = transcript.meta.context.get("subscriptions") or []
        if transcript.meta.transport != "ws" or len(subscriptions) < 2:
            continue
        if not _is_plain_stream(transcript):
            continue
        wanted = {s.get("stream") for s in subscriptions if isinstance(s, Mapping)}
        got: set[str] = set()
        errors = 0
        for message in _ws_texts(transcript):
            if isinstance(message, StreamMessage) and message.stream:
                got.add(str(message.stream[0]))
            elif isinstance(message, ErrorMessage):
                errors += 1
        tid = (transcript.meta.id,)
        if _status(transcript) != 101:
            answers.append(_answer(transcript))
        elif len(got & wanted) >= 2:
            answers.append(
                Availability(YES, 101, f"{len(got & wanted)} streams on one socket", tid)
            )
        elif errors:
            answers.append(Availability(NO, None, "subscribe answered by error frames", tid))
        else:
            answers.append(Availability(UNKNOWN, 101, "no event on a second subscription", tid))
    return combine(answers)


def _error_frames(transcripts: list[Transcript]) -> Availability:
    answers = []
    for transcript in transcripts:
        context = transcript.meta.context
        if transcript.meta.transport != "ws" or not context.get("expect_error"):
            continue
        if _status(transcript) != 101:
            continue
        tid = (transcript.meta.id,)
        if any(isinstance(m, ErrorMessage) for m in _ws_texts(transcript)):
            answers.append(Availability(YES, 101, "error frame sent", tid))
        else:
            answers.append(Availability(NO, None, "no error frame for a bad request", tid))
    return combine(answers)


def detect_capabilities(transcripts: Iterable[Transcript]) -> Capabilities:
    """The capability table of one run (pure: transcripts in, table out)."""
    listed = [t for t in transcripts if not t.meta.id.startswith("_")]
    per_stream: dict[str, dict[str, list[Availability]]] = {}
    per_transport: dict[str, list[Availability]] = {}
    tokens: dict[str, list[Availability]] = {}
    for transcript in listed:
        transport = transcript.meta.transport
        if transport not in ("sse", "ws") or not _is_plain_stream(transcript):
            continue
        answer = _answer(transcript)
        per_transport.setdefault(transport, []).append(answer)
        stream = stream_of(transcript)
        subscriptions = transcript.meta.context.get("subscriptions") or []
        if stream is not None and not subscriptions:
            per_stream.setdefault(stream, {}).setdefault(transport, []).append(answer)
        auth = transcript.meta.context.get("auth")
        if auth in TOKEN_SOURCES:
            tokens.setdefault(f"{transport} token: {auth}", []).append(answer)
    features: dict[str, Availability] = {}
    health = [t for t in listed if t.meta.context.get("purpose") == "health"]
    if health:
        features["health endpoint"] = combine([_answer_plain(t, ok=200) for t in health])
    for name in sorted(tokens):
        features[name] = combine(tokens[name])
    if any(t.meta.transport == "ws" for t in listed):
        features["ws multiplexing"] = _multiplexing(listed)
        features["ws error frames"] = _error_frames(listed)
    return Capabilities(
        streams={
            stream: {t: combine(a) for t, a in sorted(cells.items())}
            for stream, cells in sorted(per_stream.items())
        },
        transports={t: combine(a) for t, a in sorted(per_transport.items())},
        features=features,
    )


def _answer_plain(transcript: Transcript, *, ok: int) -> Availability:
    status = _status(transcript)
    tid = (transcript.meta.id,)
    if status is None:
        return Availability(UNKNOWN, None, "no response", tid)
    if status == ok:
        return Availability(YES, status, "", tid)
    return Availability(NO if status == 404 else REFUSED, status, f"answered {status}", tid)
