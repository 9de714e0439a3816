"""WebSocket streaming (§7): handshake, multiplexed subscriptions, frames, kill and keep-alive.

The upgrade is accepted on any path once the token is valid (scopes are checked per
subscription). Frames are ``{"stream":[...],"event":...,"payload":"<string>"}``; refusals are
``{"error":...,"status":N}`` and, for unsubscribe, ``{"error":"Error unsubscribing from channel"}``.
Subscriptions are keyed by their channel list, so equivalent spellings share one subscription.
All writes go through one outbox so frames, pings and close frames leave in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from .. import faults
from .auth import authenticate, extract_token
from .channels import ChannelPlan, first_param, has_scope, plan_channels
from .encoding import NotJSON, parse, stringify
from .errors import BINARY_NOT_SUPPORTED, MISSING_SCOPES, UNSUBSCRIBE_FAILED, StreamError
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
from .responses import ws_abort_handshake, ws_unauthorized

log = logging.getLogger(__name__)

_KEY = re.compile(r"^[+/0-9A-Za-z]{22}==$")
_TOKEN_CHARS = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def is_upgrade(request: web.Request) -> bool:
    """Node emits 'upgrade' for any request with ``Connection: upgrade`` and an Upgrade header."""
    connection = request.headers.get("Connection", "").lower()
    return "upgrade" in connection and "Upgrade" in request.headers


def query_params(request: web.Request) -> dict[str, Any]:
    """Node's ``url.parse(url, true).query``: one value as str, repeated keys as a list."""
    params: dict[str, Any] = {}
    for key in request.query:
        if key in params:
            continue
        values = request.query.getall(key)
        params[key] = values[0] if len(values) == 1 else list(values)
    return params


def query_lists(request: web.Request) -> dict[str, list[str]]:
    return {key: list(request.query.getall(key)) for key in set(request.query.keys())}


def auth_headers(request: web.Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    if "Authorization" in request.headers:
        headers["Authorization"] = request.headers.getone("Authorization")
    if "Sec-WebSocket-Protocol" in request.headers:
        headers["Sec-WebSocket-Protocol"] = ", ".join(
            request.headers.getall("Sec-WebSocket-Protocol")
        )
    return headers


def _handshake_problem(request: web.Request) -> web.Response | None:
    """What the ``ws`` library refuses after Mastodon authenticated the upgrade."""
    if request.method != "GET":
        return ws_abort_handshake(request, 405, "Method Not Allowed", "Invalid HTTP method")
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return ws_abort_handshake(request, 400, "Bad Request", "Invalid Upgrade header")
    if not _KEY.match(request.headers.get("Sec-WebSocket-Key", "")):
        return ws_abort_handshake(
            request, 400, "Bad Request", "Missing or invalid Sec-WebSocket-Key header"
        )
    if request.headers.get("Sec-WebSocket-Version", "") not in ("13", "8"):
        return ws_abort_handshake(
            request,
            400,
            "Bad Request",
            "Missing or invalid Sec-WebSocket-Version header",
            [("Sec-WebSocket-Version", "13, 8")],
        )
    offered = offered_protocols(request)
    if offered is not None and (
        not offered
        or len(set(offered)) != len(offered)
        or not all(_TOKEN_CHARS.match(p) for p in offered)
    ):
        return ws_abort_handshake(
            request, 400, "Bad Request", "Invalid Sec-WebSocket-Protocol header"
        )
    return None


def offered_protocols(request: web.Request) -> list[str] | None:
    if "Sec-WebSocket-Protocol" not in request.headers:
        return None
    value = ", ".join(request.headers.getall("Sec-WebSocket-Protocol"))
    return [part.strip() for part in value.split(",")]


@dataclass
class _Subscription:
    plan: ChannelPlan
    listener: Any
    heartbeat: SubscriptionHeartbeat


_KILL = "kill"
_CLOSE = "close"
_PING = "ping"


class WebSocketSession:
    """One upgraded connection: its subscriptions, liveness flag and ordered outbox."""

    def __init__(
        self,
        request: web.Request,
        ws: web.WebSocketResponse,
        viewer: Viewer,
        *,
        bus: Any,
        settings: Any,
    ) -> None:
        self.request = request
        self.ws = ws
        self.viewer = viewer
        self.bus = bus
        self.settings = settings
        self.alive = True
        self.subscriptions: dict[str, _Subscription] = {}
        self.outbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.server_closed = False
        self._system_listener = make_system_listener(viewer, lambda: self._enqueue(_KILL, None))
        self._close_timer: asyncio.TimerHandle | None = None

    # -- outbox -------------------------------------------------------------------------------
    def _enqueue(self, kind: str, data: Any) -> None:
        self.outbox.put_nowait((kind, data))

    def send_json(self, obj: dict[str, Any]) -> None:
        self._enqueue("text", stringify(obj))

    def send_error(self, obj: dict[str, Any]) -> None:
        # Mastodon checks ``isAlive``: error frames vanish between a ping and its pong.
        if self.alive:
            self.send_json(obj)

    def ping(self) -> None:
        self._enqueue(_PING, None)

    def terminate(self) -> None:
        """``ws.terminate()``: drop the TCP connection, no close frame."""
        transport = self.request.transport
        if transport is not None:
            transport.close()

    def _write_raw(self, frames: bytes) -> None:
        """Frames aiohttp cannot send (fragments), written in outbox order on the socket."""
        transport = self.request.transport
        if transport is None or transport.is_closing():
            raise ConnectionError("transport closed")
        transport.write(frames)

    async def _writer(self) -> None:
        while True:
            kind, data = await self.outbox.get()
            if self.server_closed:
                continue
            try:
                if kind == "text" and faults.active("ws-binary-frames"):  # FAULT
                    await self.ws.send_bytes(data.encode())
                elif kind == "text" and faults.variant("ws-fragment-64"):  # VARIANT
                    self._write_raw(faults.fragmented_text(data))
                elif kind == "text":
                    await self.ws.send_str(data)
                elif kind == _PING:
                    await self.ws.ping(b"")
                elif kind in (_KILL, _CLOSE):
                    payload = b"" if kind == _KILL else data
                    await self.ws.send_frame(payload, WSMsgType.CLOSE)
                    self.server_closed = True
                    loop = asyncio.get_running_loop()
                    self._close_timer = loop.call_later(
                        self.settings.ws_close_timeout_s, self.terminate
                    )
            except (ConnectionError, RuntimeError):
                return

    # -- subscriptions ------------------------------------------------------------------------
    async def subscribe(self, name: Any, params: Mapping[str, Any]) -> None:
        try:
            if not has_scope(self.viewer.scopes, name):
                raise StreamError(MISSING_SCOPES, 401)
            plan = self._plan(name, params)
        except StreamError as exc:
            if not faults.active("ws-no-error-frame"):  # FAULT
                self.send_error({"error": exc.message, "status": exc.status})
            if faults.active("ws-close-on-bad-subscribe"):  # FAULT
                self._enqueue(_CLOSE, struct.pack("!H", 1008))
            return
        if plan.key in self.subscriptions:
            return
        if self.subscriptions and faults.active("ws-one-subscription"):  # FAULT
            return
        stream: Any = list(plan.stream)
        if faults.active("ws-stream-string"):  # FAULT
            stream = ":".join(str(part) for part in plan.stream)

        def output(event: Any, payload: Any) -> None:
            frame: dict[str, Any] = {"stream": stream, "event": event}
            if payload is not ABSENT:
                frame["payload"] = payload
                if faults.active("ws-payload-object"):  # FAULT
                    frame["payload"] = faults.as_object(payload)
            self.send_json(frame)
            if faults.active("duplicate-delivery"):  # FAULT
                self.send_json(frame)

        listener = make_stream_listener(plan, self.viewer, output)
        heartbeat = SubscriptionHeartbeat(
            self.bus, plan.channel_ids, self.settings.subscription_refresh_s
        )
        self.subscriptions[plan.key] = _Subscription(plan, listener, heartbeat)
        await subscribe_all(self.bus, plan.channel_ids, listener)
        await heartbeat.start()
        if faults.active("ws-non-json-frame"):  # FAULT
            self._enqueue("text", "subscribed")

    async def unsubscribe(self, name: Any, params: Mapping[str, Any]) -> None:
        if faults.active("unsubscribe-ignored"):  # FAULT
            return
        try:
            plan = self._plan(name, params)
        except StreamError:
            self.send_error({"error": UNSUBSCRIBE_FAILED})
            return
        subscription = self.subscriptions.pop(plan.key, None)
        if subscription is not None:
            await self._drop(subscription)
        if faults.active("unsubscribe-drops-all"):  # FAULT
            for other in [self.subscriptions.pop(key) for key in list(self.subscriptions)]:
                await self._drop(other)

    def _plan(self, name: Any, params: Mapping[str, Any]) -> ChannelPlan:
        return plan_channels(
            name,
            params,
            account_id=self.viewer.account_id,
            scopes=self.viewer.scopes,
            list_owner=self.viewer.store.list_owner,
        )

    async def _drop(self, subscription: _Subscription) -> None:
        subscription.heartbeat.stop()
        await unsubscribe_all(self.bus, subscription.plan.channel_ids, subscription.listener)

    async def on_text(self, text: str) -> None:
        try:
            message = parse(text)
        except NotJSON:
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        params = {k: v for k, v in message.items() if k not in ("type", "stream")}
        if kind == "subscribe":
            await self.subscribe(first_param(message.get("stream")), params)
        elif kind == "unsubscribe":
            await self.unsubscribe(first_param(message.get("stream")), params)

    # -- lifecycle ----------------------------------------------------------------------------
    async def run(self) -> None:
        writer = asyncio.get_running_loop().create_task(self._writer())
        system = system_channels(self.viewer)
        try:
            await subscribe_all(self.bus, system, self._system_listener)
            query = query_params(self.request)
            if query.get("stream"):
                await self.subscribe(first_param(query["stream"]), query)
            await self._read_loop()
        finally:
            if self._close_timer is not None:
                self._close_timer.cancel()
            for subscription in list(self.subscriptions.values()):
                await self._drop(subscription)
            self.subscriptions.clear()
            await unsubscribe_all(self.bus, system, self._system_listener)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer

    async def _read_loop(self) -> None:
        ws = self.ws
        while True:
            msg = await ws.receive()
            if msg.type is WSMsgType.TEXT:
                await self.on_text(msg.data)
            elif msg.type is WSMsgType.BINARY:
                if not self.server_closed:
                    reason = BINARY_NOT_SUPPORTED.encode()
                    self._enqueue(_CLOSE, struct.pack("!H", 1003) + reason)
            elif msg.type is WSMsgType.PING:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    if not faults.active("ws-no-pong"):  # FAULT
                        await ws.pong(msg.data)
            elif msg.type is WSMsgType.PONG:
                self.alive = True
            elif msg.type is WSMsgType.CLOSE:
                await self._answer_close(msg.data, msg.extra)
                return
            else:  # CLOSING, CLOSED, ERROR: the connection is gone
                return

    async def _answer_close(self, code: Any, reason: Any) -> None:
        """Echo the client's close (code and reason) unless we already sent ours."""
        transport = self.request.transport
        if not self.server_closed:
            self.server_closed = True
            if isinstance(code, int) and code not in (0, 1005):
                payload = struct.pack("!H", code) + (reason or "").encode()
            else:
                payload = b""
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_frame(payload, WSMsgType.CLOSE)
        if transport is not None:
            transport.close()
        with contextlib.suppress(Exception):
            await self.ws.close()


class WebSocketHub:
    """Every open session, and Mastodon's single global ping timer over them."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.sessions: set[WebSocketSession] = set()
        self._task: asyncio.Task[None] | None = None

    def tick(self) -> None:
        """One timer tick: terminate the silent, mark the rest not-alive and ping them."""
        for session in list(self.sessions):
            if not session.alive:
                session.terminate()
                continue
            session.alive = False
            session.ping()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.ping_interval_s)
            self.tick()

    async def start(self, _app: web.Application | None = None) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, _app: web.Application | None = None) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for session in list(self.sessions):
            session.terminate()


async def handle_upgrade(
    request: web.Request, *, store: Any, bus: Any, settings: Any, hub: WebSocketHub
) -> web.StreamResponse:
    try:
        info = authenticate(
            store, *faults.ws_token_sources(auth_headers(request), query_lists(request))
        )  # FAULT
    except StreamError as exc:
        if faults.active("ws-accept-invalid-token"):  # FAULT
            return await _accept_then_close(request)
        if faults.drop_refusal(request, exc.status):  # FAULT
            return web.Response(status=204)
        stream = (query_lists(request).get("stream") or [None])[0]
        token = extract_token(auth_headers(request), query_lists(request))
        if not faults.anonymous_public(stream, token):  # FAULT
            return ws_unauthorized(request, exc.message)
        info = faults.AnonymousToken()
    problem = _handshake_problem(request)
    if problem is not None:
        return problem
    offered = offered_protocols(request)
    if faults.active("ws-no-subprotocol-echo"):  # FAULT
        offered = None
    ws = web.WebSocketResponse(
        protocols=(offered[0],) if offered else (),
        autoping=False,
        autoclose=False,
        compress=False,
        heartbeat=None,
        max_msg_size=0,
    )
    ws.headers["X-Request-Id"] = str(uuid.uuid4())
    if faults.active("ws-unoffered-subprotocol") and offered is None:  # FAULT
        ws.headers["Sec-WebSocket-Protocol"] = "mastodon"
    await ws.prepare(request)
    session = WebSocketSession(request, ws, Viewer(info, store), bus=bus, settings=settings)
    hub.sessions.add(session)
    try:
        await session.run()
    finally:
        hub.sessions.discard(session)
    return ws


async def _accept_then_close(request: web.Request) -> web.StreamResponse:
    """``ws-accept-invalid-token`` (FAULT): a 101 for a caller Mastodon refuses, then a close."""
    ws = web.WebSocketResponse(autoping=False, compress=False, heartbeat=None)
    await ws.prepare(request)
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.close(code=1008)
    return ws
