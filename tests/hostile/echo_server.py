"""A server that echoes every credential it is sent, split at every byte offset.

The redaction self-test (``test_redaction_split.py``) points a whole run at it: whatever the
suite sends as a credential (``Authorization: Bearer``, ``Basic`` from ``user:password@`` in the
target URL, ``?access_token=``, a WebSocket subprotocol) comes back on every SSE and HTTP body,
raw, percent-encoded and base64-encoded, each form cut into two chunked-encoding chunks at every
offset (two reads for the recorder), plus whole WebSocket frames. If any artefact, stdout or
stderr then contains a credential, redaction was split.

Run: ``python tests/hostile/echo_server.py`` -> prints ``{"url": ...}`` and serves until killed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from urllib.parse import quote

from aiohttp import web

HEARTBEAT_S = 0.5


def credentials(request: web.Request) -> list[str]:
    """Every credential in the request, decoded (a Basic header gives user:password and both)."""
    found: list[str] = []
    for name in ("Authorization", "Sec-WebSocket-Protocol"):
        value = request.headers.get(name, "")
        scheme, _, rest = value.partition(" ")
        if scheme.lower() == "basic" and rest:
            try:
                pair = base64.b64decode(rest).decode("utf-8", "replace")
            except ValueError:
                continue
            found.append(pair)
            found.extend(part for part in pair.split(":", 1) if part)
        elif scheme.lower() == "bearer" and rest:
            found.append(rest)
        elif name == "Sec-WebSocket-Protocol" and value:
            found.extend(p.strip() for p in value.split(",") if p.strip())
    found.extend(v for k, v in request.query.items() if k == "access_token" and v)
    return list(dict.fromkeys(found))


def forms(secret: str) -> list[str]:
    return [
        secret,
        quote(secret, safe=""),
        base64.b64encode(secret.encode()).decode(),
        base64.b64encode(b"user:" + secret.encode()).decode(),
    ]


def split_chunks(secrets: list[str]) -> list[tuple[bytes, bytes]]:
    """(first, second) pairs: an SSE event whose data carries a secret cut at every offset."""
    out: list[tuple[bytes, bytes]] = []
    for secret in secrets:
        for form in forms(secret):
            raw = form.encode()
            for cut in range(len(raw) + 1):
                out.append(
                    (
                        b'event: update\ndata: {"echo":"' + raw[:cut],
                        raw[cut:] + b'"}\n\n',
                    )
                )
    return out


async def sse(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        status=200, headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    await response.write(b":)\n")
    for first, second in split_chunks(credentials(request)):
        await response.write(first)
        await response.write(second)
    try:
        while True:
            await response.write(b":thump\n")
            await asyncio.sleep(HEARTBEAT_S)
    except (ConnectionError, asyncio.CancelledError):
        pass
    return response


async def ws(request: web.Request) -> web.StreamResponse:
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    sock = web.WebSocketResponse(protocols=[p for p in offered if p])
    await sock.prepare(request)
    for secret in credentials(request):
        for form in forms(secret):
            await sock.send_str(json.dumps({"stream": ["user"], "event": "x", "payload": form}))
    async for _message in sock:
        pass
    return sock


async def echo(request: web.Request) -> web.StreamResponse:
    """Any other path: a JSON body that names the credentials, chunk-split like the SSE ones."""
    if request.path == "/api/v1/streaming" and request.headers.get("Upgrade"):
        return await ws(request)
    if request.path.startswith("/api/v1/streaming/") and request.path != (
        "/api/v1/streaming/health"
    ):
        return await sse(request)
    if request.path == "/api/v1/accounts/verify_credentials":
        # the preflight's token check: one account per token, the credentials echoed back too
        auth = request.headers.get("Authorization", "")
        account = str(abs(hash(auth)) % 1_000_000 + 1)
        secrets = " ".join(credentials(request))
        return web.json_response(
            {"id": account, "username": f"echo{account}", "acct": f"echo{account}", "note": secrets}
        )
    if request.path in {"/api/v1/instance", "/api/v2/instance"}:
        base = f"http://{request.host}"
        secrets = " ".join(credentials(request))
        doc = {
            "uri": request.host,
            "domain": request.host,
            "version": "4.8.0",
            "title": secrets,
            "urls": {"streaming_api": base.replace("http", "ws")},
            "configuration": {"urls": {"streaming": base.replace("http", "ws")}},
        }
        return web.json_response(doc)
    response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
    await response.prepare(request)
    for first, second in split_chunks(credentials(request)):
        await response.write(first)
        await response.write(second)
    await response.write_eof()
    return response


def main() -> None:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)

    async def serve() -> None:
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(json.dumps({"url": f"http://127.0.0.1:{port}"}), flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
