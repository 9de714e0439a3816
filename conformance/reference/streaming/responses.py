"""The plain HTTP answers of the streaming server, shaped like Express's (§1, §4).

Every response carries ``X-Request-Id`` (uuid4) and ``Access-Control-Allow-Origin: *``; errors are
chunked ``application/json`` (no charset) ``{"error": ...}``; the WebSocket handshake refusals are
raw bytes written on the socket, which is then closed, exactly as ``streaming/index.js`` and the
``ws`` library do it.
"""

from __future__ import annotations

import json
import uuid

from aiohttp import web

from .. import faults

CORS_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"


def base_headers() -> dict[str, str]:
    return {"X-Request-Id": str(uuid.uuid4()), "Access-Control-Allow-Origin": "*"}


async def chunked(
    request: web.Request,
    status: int,
    content_type: str,
    body: bytes,
    *,
    extra: dict[str, str] | None = None,
) -> web.StreamResponse:
    headers = base_headers()
    headers["Content-Type"] = content_type
    headers.update(extra or {})
    response = web.StreamResponse(status=status, headers=headers)
    response.enable_chunked_encoding()
    await response.prepare(request)
    if body and request.method != "HEAD":
        await response.write(body)
    await response.write_eof()
    return response


async def json_error(request: web.Request, status: int, message: str) -> web.StreamResponse:
    body = json.dumps({"error": message}, ensure_ascii=False, separators=(",", ":")).encode()
    plain = faults.active("error-body-plain")  # FAULT
    return await chunked(request, status, "text/plain" if plain else "application/json", body)


async def health(request: web.Request) -> web.StreamResponse:
    return await chunked(
        request,
        503 if faults.active("health-503") else 200,  # FAULT
        "text/plain",
        b"healthy" if faults.active("health-body") else b"OK",  # FAULT
        extra={"Cache-Control": "private, no-store"},
    )


def preflight(request: web.Request) -> web.Response:
    """``cors()`` answering OPTIONS before authentication: 204 with the request headers echoed."""
    headers = base_headers()
    headers["Access-Control-Allow-Methods"] = CORS_METHODS
    requested = request.headers.get("Access-Control-Request-Headers")
    if requested:
        headers["Vary"] = "Access-Control-Request-Headers"
        headers["Access-Control-Allow-Headers"] = requested
    headers["Content-Length"] = "0"
    return web.Response(status=204, headers=headers)


def express_not_found(request: web.Request) -> web.Response:
    """Express's finalhandler 404 for a method no route takes (``Cannot POST /path``)."""
    body = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
        f"</head>\n<body>\n<pre>Cannot {request.method} {_html_escape(request.path)}</pre>\n"
        "</body>\n</html>\n"
    )
    headers = base_headers()
    headers["Content-Security-Policy"] = "default-src 'none'"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Content-Type"] = "text/html; charset=utf-8"
    return web.Response(status=404, body=body.encode(), headers=headers)


def empty_not_found(request: web.Request) -> web.Response:
    headers = base_headers()
    headers["Content-Length"] = "0"
    return web.Response(status=404, headers=headers)


def _html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def raw_refusal(
    request: web.Request, head: str, headers: list[tuple[str, str]], body: bytes = b""
) -> web.Response:
    """Write a complete HTTP response by hand and close the socket (no Date/Server, no keep-alive).

    The returned Response is never sent: the transport is already closed.
    """
    lines = [head] + [f"{name}: {value}" for name, value in headers]
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    transport = request.transport
    if transport is not None and not transport.is_closing():
        transport.write(data)
        transport.close()
    return web.Response(status=204)


def ws_unauthorized(request: web.Request, message: str) -> web.Response:
    """``:207-225``: 401 with ``X-Error-Message``, no body, socket closed."""
    return raw_refusal(
        request,
        "HTTP/1.1 401 Unauthorized",
        [
            ("Connection", "close"),
            ("Content-Type", "text/plain"),
            ("Content-Length", "0"),
            ("X-Request-Id", str(uuid.uuid4())),
            ("X-Error-Message", message),
        ],
    )


def ws_abort_handshake(
    request: web.Request,
    status: int,
    reason: str,
    message: str,
    extra: list[tuple[str, str]] | None = None,
) -> web.Response:
    """The ``ws`` library's ``abortHandshake`` (e.g. a bad ``Sec-WebSocket-Version``)."""
    body = message.encode()
    headers = [
        ("Connection", "close"),
        ("Content-Type", "text/html"),
        ("Content-Length", str(len(body))),
        *(extra or []),
    ]
    return raw_refusal(request, f"HTTP/1.1 {status} {reason}", headers, body)
