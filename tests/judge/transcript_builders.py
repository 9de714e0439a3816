"""Hand-built transcripts for judge self-tests: a conformant baseline per transport that each
test mutates in one place, so a failing check is attributable to exactly that mutation."""

from __future__ import annotations

import json
from typing import Any

from conformance.transcript.model import Meta, Transcript

SSE_HEADERS = [
    ["Content-Type", "text/event-stream"],
    ["Cache-Control", "private, no-store"],
    ["Transfer-Encoding", "chunked"],
]
STATUS = {"id": "1", "content": "<p>hi</p>"}


def sse(
    chunks: list[tuple[float, bytes]] | None = None,
    *,
    status: int = 200,
    headers: list[list[str]] | None = None,
    end: str = "client-close",
    end_t: float | None = None,
    context: dict[str, Any] | None = None,
    request_headers: list[list[str]] | None = None,
    path: str = "/api/v1/streaming/user",
) -> Transcript:
    """An SSE stream: head at t=0.01, the chunks, an end record."""
    ctx = {"purpose": "stream", "stream": "user", "auth": "header", "case": "t"}
    ctx.update(context or {})
    meta = Meta(
        id="t",
        transport="sse",
        request={
            "method": "GET",
            "path": path,
            "headers": request_headers or [["Authorization", "Bearer x"]],
        },
        context=ctx,
    )
    tr = Transcript(meta=meta)
    tr.add(0.0, "connect")
    tr.add(
        0.01,
        "response-head",
        status=status,
        reason="",
        http_version="HTTP/1.1",
        headers=headers if headers is not None else SSE_HEADERS,
    )
    if chunks is None:
        chunks = [(0.02, b":)\n"), (0.1, b"event: delete\n"), (0.1, b"data: 1\n\n")]
    for t, data in chunks:
        tr.add(t, "body-chunk", data=data)
    last = max([0.01, *(t for t, _ in chunks)])
    tr.add(end_t if end_t is not None else last + 0.1, "end", how=end, detail="")
    return tr


def event(name: str, data: str | None) -> bytes:
    out = f"event: {name}\n"
    if data is not None:
        out += f"data: {data}\n"
    return (out + "\n").encode()


def http(
    *,
    status: int,
    body: bytes,
    content_type: str | None = "application/json",
    context: dict[str, Any] | None = None,
    transport: str = "sse",
    method: str = "GET",
    path: str = "/api/v1/streaming/user",
) -> Transcript:
    ctx = {"purpose": "error", "stream": "user", "auth": "header", "case": "t"}
    ctx.update(context or {})
    meta = Meta(
        id="t",
        transport=transport,
        request={"method": method, "path": path, "headers": []},
        context=ctx,
    )
    tr = Transcript(meta=meta)
    tr.add(0.0, "connect")
    headers = [["Content-Type", content_type]] if content_type else []
    tr.add(
        0.01, "response-head", status=status, reason="", http_version="HTTP/1.1", headers=headers
    )
    if body:
        tr.add(0.02, "body-chunk", data=body)
    tr.add(0.03, "end", how="eof", detail="")
    return tr


def ws(
    frames: list[tuple[float, str, str, Any]] | None = None,
    *,
    status: int = 101,
    response_headers: list[list[str]] | None = None,
    request_headers: list[list[str]] | None = None,
    path: str = "/api/v1/streaming?stream=user",
    context: dict[str, Any] | None = None,
    end: str = "client-close",
    end_t: float | None = None,
) -> Transcript:
    """A WebSocket transcript. Frames: (t, "recv"|"send", opcode, data or (data, extra dict))."""
    ctx = {"purpose": "stream", "stream": "user", "auth": "subprotocol", "case": "t"}
    ctx.update(context or {})
    offered = (
        request_headers if request_headers is not None else [["Sec-WebSocket-Protocol", "tok"]]
    )
    meta = Meta(
        id="t",
        transport="ws",
        request={"method": "GET", "path": path, "headers": offered},
        context=ctx,
    )
    tr = Transcript(meta=meta)
    tr.add(0.0, "connect")
    if response_headers is None:
        response_headers = [["Upgrade", "websocket"], ["Connection", "Upgrade"]]
        proto = next((v for k, v in offered if k.lower() == "sec-websocket-protocol"), None)
        if proto is not None and status == 101:
            response_headers.append(["Sec-WebSocket-Protocol", proto])
    tr.add(
        0.01,
        "response-head",
        status=status,
        reason="",
        http_version="HTTP/1.1",
        headers=response_headers,
    )
    if frames is None:
        frames = [(0.1, "recv", "text", message("user", "delete", "1"))]
    for t, direction, opcode, data in frames:
        extra: dict[str, Any] = {}
        if isinstance(data, tuple):
            data, extra = data
        raw = data.encode() if isinstance(data, str) else data
        tr.add(
            t,
            "ws-frame-recv" if direction == "recv" else "ws-frame-send",
            opcode=opcode,
            data=raw,
            **extra,
        )
    last = max([0.01, *(f[0] for f in frames)])
    tr.add(end_t if end_t is not None else last + 0.1, "end", how=end, detail="")
    return tr


def message(
    stream: str | list[Any], name: str, payload: Any = None, *, with_payload: bool = True
) -> str:
    obj: dict[str, Any] = {"stream": [stream] if isinstance(stream, str) else stream, "event": name}
    if with_payload:
        obj["payload"] = payload
    return json.dumps(obj)
