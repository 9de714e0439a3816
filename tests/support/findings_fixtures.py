"""Small synthetic runs (results + transcripts) shaped like the fault runs, for findings tests.

Each mirrors a live run's structure (transcript ids, contexts, statuses, end records) so the
grouping is exercised on the same structured data a live run records, without the network.
"""

from __future__ import annotations

from conformance.transcript.model import Meta, Transcript
from conformance.verdicts import Level, Result, Verdict


def transcript(
    tid: str,
    transport: str,
    *,
    status: int | None,
    stream: str | None = None,
    purpose: str = "stream",
    end: str = "client-close",
    end_t: float = 5.0,
    frames: tuple[str, ...] = (),
    **context: object,
) -> Transcript:
    endpoint = None
    if transport != "ws" and stream is not None:
        endpoint = "/api/v1/streaming/" + stream.replace(":", "/")
    ctx = {"purpose": purpose, "stream": stream, "endpoint": endpoint, "auth": "header", **context}
    t = Transcript(Meta(id=tid, transport=transport, request={}, context=ctx))
    t.add(0.0, "connect")
    if status is not None:
        t.add(0.01, "response-head", status=status, reason="", http_version="HTTP/1.1", headers=[])
    for i, text in enumerate(frames):
        t.add(0.1 + i / 100, "ws-frame-recv", opcode="text", data=text.encode())
    t.add(end_t, "end", how=end, detail="")
    return t


def result(
    requirement: str,
    tid: str,
    verdict: Verdict = Verdict.FAIL,
    *,
    suffix: str = "",
    level: Level = Level.MUST,
    cause: str | None = None,
    transport: str | None = None,
    stream: str | None = None,
) -> Result:
    transport = transport or tid.split("-", 1)[0]
    stream = stream or tid.split("-", 1)[1]
    return Result(
        id=f"{requirement}[{tid}{suffix}]",
        requirement=requirement,
        verdict=verdict,
        level=level,
        message=f"{requirement} on {tid}: expected x; observed y",
        transport=transport,
        stream=stream,
        evidence="b'raw'",
        transcript=tid,
        cause=cause,
    )


def three_fault_run() -> tuple[list[Result], list[Transcript]]:
    """CRLF on SSE, followers-only statuses leaking publicly, WS payloads as objects."""
    transcripts = [
        transcript("sse-public", "sse", status=200, stream="public"),
        transcript("sse-user", "sse", status=200, stream="user"),
        transcript("ws-public", "ws", status=101, stream="public"),
        transcript("ws-user", "ws", status=101, stream="user"),
    ]
    r = result
    results = [
        r("sse.framing.lf-line-endings", "sse-public"),
        r("sse.framing.lf-line-endings", "sse-user"),
        r("delivery.private-status.excluded", "sse-public", suffix="-update"),
        r("delivery.private-status.excluded", "ws-public", suffix="-update"),
        r("payload.ws.string", "ws-public"),
        r("payload.ws.string", "ws-user"),
        r("payload.schema.valid", "ws-public", suffix="-update"),
        r("payload.schema.valid", "ws-user", suffix="-notification"),
        r("events.delete.bare-id", "ws-user"),
        r("delivery.delete.everywhere", "ws-public", suffix="-delete"),
        r("delivery.public-status.arrives", "sse-public", Verdict.PASS, suffix="-update"),
        r("http.sse.status-200", "sse-public", Verdict.PASS),
    ]
    return results, transcripts


def cut_run() -> tuple[list[Result], list[Transcript]]:
    """Every SSE stream cut mid-event at t=3.2 s, before the stimuli."""
    transcripts = [
        transcript("sse-user", "sse", status=200, stream="user", end="incomplete", end_t=3.2),
        transcript("sse-public", "sse", status=200, stream="public", end="incomplete", end_t=3.4),
        transcript("ws-user", "ws", status=101, stream="user"),
    ]
    r = result
    results = [
        r("delivery.public-status.arrives", "sse-user", suffix="-update"),
        r("delivery.public-status.arrives", "sse-public", suffix="-update"),
        r("delivery.mention.notifies", "sse-user", suffix="-notification"),
        r("delivery.private-status.excluded", "sse-public", Verdict.NOT_EXERCISED, suffix="-u"),
        r("sse.heartbeat.within-timeout", "sse-user", Verdict.NOT_EXERCISED),
        r("http.sse.not-cut", "sse-user"),
        r("http.sse.not-cut", "sse-public"),
        r("delivery.public-status.arrives", "ws-user", Verdict.PASS, suffix="-update"),
    ]
    return results, transcripts


def no_sse_run() -> tuple[list[Result], list[Transcript]]:
    """A WebSocket-only server: every SSE path answers 404."""
    transcripts = [
        transcript("sse-user", "sse", status=404, stream="user"),
        transcript("sse-public", "sse", status=404, stream="public"),
        transcript(
            "sse-err-missing-token",
            "http",
            status=404,
            stream="user",
            purpose="error",
            expect_error="Missing access token",
        ),
        transcript("ws-user", "ws", status=101, stream="user"),
        transcript("ws-public", "ws", status=101, stream="public"),
    ]
    r = result
    results = [
        r("http.sse.status-200", "sse-user"),
        r("http.sse.status-200", "sse-public"),
        r("auth.sse.token-header", "sse-user"),
        r("sse.framing.lf-line-endings", "sse-user", Verdict.NOT_EXERCISED),
        r("delivery.public-status.arrives", "sse-public", Verdict.NOT_EXERCISED, suffix="-u"),
        r("errors.sse.missing-token", "sse-err-missing-token", Verdict.PASS, transport="http"),
        r(
            "errors.http.status-exact",
            "sse-err-missing-token",
            Verdict.WARN,
            level=Level.SHOULD,
            transport="http",
        ),
        r("delivery.public-status.arrives", "ws-public", Verdict.PASS, suffix="-update"),
        r("payload.ws.string", "ws-user", Verdict.PASS),
    ]
    return results, transcripts
