"""One plain HTTP exchange (health, favicon, CORS preflight, a refused stream) -> Transcript."""

from __future__ import annotations

import asyncio

import httpx

from conformance.redact import Redactor, secrets_from_request
from conformance.transcript.model import Meta, Transcript
from conformance.transports._shared import (
    Clock,
    HeadersArg,
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
) -> Transcript:
    """Send one request and record the head, every body read (after transfer decoding) and the end.

    Never raises for server behaviour: a refused connection, a reset or the deadline become the
    ``end`` record. ``deadline_s`` bounds the whole exchange; it is also every read's timeout.
    """
    hdrs = header_list(headers)
    # The caller's secrets plus whatever credential this request carries.
    redactor = (redactor or Redactor()).extend(secrets_from_request(url, hdrs))
    transcript = new_transcript(
        meta, {"method": method, "url": url, "headers": [list(h) for h in hdrs]}, redactor
    )
    clock = Clock()
    head_seen = False
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
                        transcript.add(clock(), "body-chunk", data=redactor.bytes(chunk))
                transcript.add(clock(), "end", how="eof", detail="")
            finally:
                await response.aclose()
    except TimeoutError:
        if transcript.end is None:
            transcript.add(clock(), "timeout", wait="http exchange", deadline_s=deadline_s)
            transcript.add(clock(), "end", how="deadline", detail=f"deadline {deadline_s}s")
    except Exception as exc:
        if transcript.end is None:
            how, detail = classify_httpx_error(exc, head_seen=head_seen)
            transcript.add(clock(), "end", how=how, detail=redactor.text(detail))
    return transcript
