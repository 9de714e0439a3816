"""Server-sent events (``streamToHttp``, §5): the wire bytes are the point of this module.

Head: ``text/event-stream`` (no charset), ``Cache-Control: private, no-store``, chunked. Body:
``:)\\n`` in its own chunk, ``:thump\\n\\n`` every heartbeat period counted from the stream start,
and each event as two chunks ``event: NAME\\n`` + ``data: PAYLOAD\\n\\n``. ``kill`` ends the
response with the terminating chunk.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .. import faults
from .channels import ChannelPlan
from .encoding import js_number, js_string
from .listeners import (
    ABSENT,
    SubscriptionHeartbeat,
    Viewer,
    make_stream_listener,
    make_system_listener,
    subscribe_all,
    system_channels,
    unsubscribe_all,
)
from .responses import base_headers

FIRST_CHUNK = b":)\n"
HEARTBEAT_CHUNK = b":thump\n\n"
_KILL = object()


def event_chunks(event: Any, payload: Any) -> list[bytes]:
    """The chunks one event is written as; payload ABSENT -> no data line (filters_changed)."""
    name = event if isinstance(event, str) else js_string(event)
    if name == "delete" and faults.active("sse-delete-without-data"):  # FAULT
        payload = ABSENT
    if payload is ABSENT:
        return _faulty([f"event: {name}\n\n".encode()])
    if isinstance(payload, str):
        text = payload
    elif isinstance(payload, bool):
        text = "true" if payload else "false"
    elif isinstance(payload, int | float):
        text = js_number(payload)
    else:
        text = js_string(payload)
    return _faulty(
        [f"event: {name}\n".encode(), f"data: {text}\n\n".encode("utf-8", "surrogatepass")]
    )


def _faulty(chunks: list[bytes]) -> list[bytes]:
    """The event's chunks as the active ``--fault``s garble them (unchanged without faults)."""
    if faults.active("sse-no-event-field"):  # FAULT
        chunks = [c for c in chunks if not c.startswith(b"event:")] or [b"data: \n\n"]
    if faults.active("sse-unknown-field"):  # FAULT
        chunks = [b"x-msc: 1\n", *chunks]
    if faults.active("sse-invalid-utf8"):  # FAULT
        chunks = [c.replace(b"data: ", b"data: \xff", 1) for c in chunks]
    if faults.active("sse-no-blank-line"):  # FAULT
        chunks = [c[:-1] if c.endswith(b"\n\n") else c for c in chunks]
    if faults.active("sse-crlf"):  # FAULT
        chunks = [c.replace(b"\n", b"\r\n") for c in chunks]
    return chunks


def sse_headers() -> dict[str, str]:
    headers = base_headers()
    headers["Content-Type"] = "text/event-stream"
    headers["Cache-Control"] = "private, no-store"
    if faults.active("sse-content-type-plain"):  # FAULT
        headers["Content-Type"] = "text/plain"
    if faults.active("sse-no-cache-control"):  # FAULT
        del headers["Cache-Control"]
    return headers


async def head_only(request: web.Request) -> web.StreamResponse:
    """HEAD on a stream path: the SSE head, then the response ends (no body may follow)."""
    response = web.StreamResponse(status=200, headers=sse_headers())
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write_eof()
    return response


async def stream_sse(
    request: web.Request, plan: ChannelPlan, viewer: Viewer, *, bus: Any, settings: Any
) -> web.StreamResponse:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    def output(event: Any, payload: Any) -> None:
        queue.put_nowait(event_chunks(event, payload))

    listener = make_stream_listener(plan, viewer, output)
    system_listener = make_system_listener(viewer, lambda: queue.put_nowait(_KILL))
    system = system_channels(viewer)
    heartbeat = SubscriptionHeartbeat(bus, plan.channel_ids, settings.subscription_refresh_s)
    response = web.StreamResponse(status=200, headers=sse_headers())
    response.enable_chunked_encoding()
    try:
        await subscribe_all(bus, system, system_listener)
        await subscribe_all(bus, plan.channel_ids, listener)
        await heartbeat.start()
        await response.prepare(request)
        held: list[bytes] | None = None
        if faults.active("sse-buffered"):  # FAULT: the head goes out, the body is held back
            held = []
            await response.write(b"")
        await _write(response, FIRST_CHUNK, held)
        interval = float(settings.heartbeat_s)
        next_beat = loop.time() + interval
        while True:
            timeout = next_beat - loop.time()
            if timeout <= 0:
                if not faults.active("sse-no-heartbeat"):  # FAULT
                    await _write(response, _heartbeat_chunk(), held)
                next_beat += interval
                continue
            try:
                item = await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                continue
            if item is _KILL:
                await response.write_eof()
                break
            if held:  # FAULT sse-buffered: the first event releases everything held back
                await response.write(b"".join(held))
            held = None
            if faults.active("sse-cut-mid-event"):  # FAULT
                return await faults.cut_mid_event(request, response, item)
            for chunk in item:
                await response.write(chunk)
    except (ConnectionError, RuntimeError):
        pass  # the client went away mid-write
    finally:
        heartbeat.stop()
        await unsubscribe_all(bus, plan.channel_ids, listener)
        await unsubscribe_all(bus, system, system_listener)
    return response


async def _write(response: web.StreamResponse, chunk: bytes, held: list[bytes] | None) -> None:
    if held is not None:  # FAULT sse-buffered
        held.append(chunk)
    else:
        await response.write(chunk)


def _heartbeat_chunk() -> bytes:
    return HEARTBEAT_CHUNK.replace(b"\n", b"\r\n") if faults.active("sse-crlf") else HEARTBEAT_CHUNK
