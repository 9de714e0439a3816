"""One plain HTTP exchange (health, favicon, CORS preflight, a refused stream) -> Transcript."""

from __future__ import annotations

import asyncio

import httpx

from conformance.redact import Redactor, StreamRedactor, secrets_from_request
from conformance.transcript.model import Meta, Transcript
from conformance.transports._shared import (
    DEFAULT_LIMITS,
    BodyKeeper,
    Clock,
    HeadersArg,
    Limits,
    classify_httpx_error,
    head_fields,
    header_list,
    new_transcript,
)

__all__ = ["record_http"]


async def record_http(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: HeadersArg = None,
    meta: Meta,
    deadline_s: float = 10.0,
    content: bytes | None = None,
    redactor: Redactor | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Transcript:
    """Send one request and record the head, every body read (after transfer decoding) and the end.

    Never raises for server behaviour: a refused connection, a reset or the deadline become the
    ``end`` record. ``deadline_s`` bounds the whole exchange; it is also every read's timeout.
    The body is redacted as one stream and kept within ``limits`` (head and tail, gap noted);
    past ``limits.max_body_bytes`` the suite stops reading (``end`` ``client-close``).
    """
    hdrs = header_list(headers)
    # The caller's secrets plus whatever credential this request carries.
    redactor = (redactor or Redactor()).extend(secrets_from_request(url, hdrs))
    transcript = new_transcript(
        meta, {"method": method, "url": url, "headers": [list(h) for h in hdrs]}, redactor
    )
    clock = Clock()
    head_seen = False
    stream = redactor.stream()
    keeper = BodyKeeper(transcript, limits)
    try:
        async with asyncio.timeout(deadline_s):
            request = client.build_request(
                method, url, headers=hdrs, content=content, timeout=deadline_s
            )
            clock.start()
            response = await client.send(request, stream=True)
            try:
                transcript.add(0.0, "connect")
                transcript.add(clock(), "response-head", **head_fields(response, redactor))
                head_seen = True
                async for chunk in response.aiter_raw():
                    if chunk:
                        keeper.add(clock(), stream.feed(chunk))
                    if keeper.total_bytes > limits.max_body_bytes:
                        why = f"more than {limits.max_body_bytes} body bytes"
                        transcript.add(clock(), "note", text=f"stopped reading: {why}")
                        _end(transcript, keeper, stream, clock(), "client-close", f"limit: {why}")
                        break
                else:
                    _end(transcript, keeper, stream, clock(), "eof", "")
            finally:
                await response.aclose()
    except TimeoutError:
        if transcript.end is None:
            transcript.add(clock(), "timeout", wait="http exchange", deadline_s=deadline_s)
            _end(transcript, keeper, stream, clock(), "deadline", f"deadline {deadline_s}s")
    except Exception as exc:
        if transcript.end is None:
            how, detail = classify_httpx_error(exc, head_seen=head_seen)
            _end(transcript, keeper, stream, clock(), how, redactor.text(detail))
    return transcript


def _end(
    transcript: Transcript,
    keeper: BodyKeeper,
    stream: StreamRedactor,
    t: float,
    how: str,
    detail: str,
) -> None:
    """Release the redactor's held-back bytes, put the kept tail back, then the ``end``."""
    keeper.add(t, stream.flush())
    keeper.settle()
    transcript.add(t, "end", how=how, detail=detail)
