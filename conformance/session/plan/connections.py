"""The connection table: every transcript a run records, with the context the judges read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from conformance.config import Settings
from conformance.matrix.keys import (
    HASHTAG_CASE_KEYS,
    MUX_SUBSCRIPTIONS,
    OTHER_TAG_KEY,
)
from conformance.matrix.streams import (
    BY_NAME,
    IDLE_TAG,
    LIST,
    MIXED_TAG,
    OTHER_TAG,
    SSE_BASE,
    STREAMS,
    TAG,
)


@dataclass(frozen=True, slots=True)
class Connection:
    """One transcript to record. ``key`` is its stable label (also ``Meta.id`` and ``case``).

    ``token`` names the credential: ``a``, ``b``, ``invalid``, ``none``, or a role from
    ``SetupInfo.tokens`` (``scope:read:notifications``, ``revocable``). ``matrix`` marks the
    connections the delivery judge reads. ``sends`` are WS text frames sent after the
    handshake (subscribe probes); ``needs`` must all be available for it to be opened.
    """

    key: str
    transport: str  # sse | ws | http
    purpose: str  # stream | error | health | http | handshake
    stream: str | None
    path: str
    params: tuple[tuple[str, str], ...] = ()
    auth: str = "header"
    token: str = "a"
    expect_status: int | None = 200
    expect_error: str | None = None
    subscriptions: tuple[tuple[tuple[str, str], ...], ...] = ()
    sends: tuple[str, ...] = ()
    matrix: bool = False
    needs: frozenset[str] = frozenset()
    role: str = ""  # "", "mux", "revocable", "server-ping", "no-pong", "binary"
    base: str = "streaming"  # streaming | web (the REST host: instance documents)
    extra: tuple[tuple[str, Any], ...] = ()  # more context keys (long, answer_pings, ...)
    only: frozenset[str] | None = None  # requirements planned on it (None: every applicable)

    def context(
        self,
        *,
        heartbeat_timeout_s: float,
        expect_events: Iterable[str] = (),
        resolve: dict[str, str] | None = None,
        ping_timeout_s: float | None = None,
    ) -> dict[str, Any]:
        """The ``Meta.context`` for this connection (see ARCHITECTURE.md)."""
        extra: dict[str, Any] = dict(self.extra)
        if extra.get("long") and ping_timeout_s is not None:
            extra["ping_timeout_s"] = ping_timeout_s
        if self.only is not None:
            extra["only"] = sorted(self.only)
        return {
            "purpose": self.purpose,
            "stream": self.stream,
            "endpoint": self.path if self.transport != "ws" else None,
            "params": {k: _resolve(v, resolve) for k, v in self.params},
            "auth": self.auth,
            "expect_status": self.expect_status,
            "expect_error": self.expect_error,
            "expect_events": sorted(set(expect_events)),
            "subscriptions": [
                {k: _resolve(v, resolve) for k, v in sub} for sub in self.subscriptions
            ],
            "heartbeat_timeout_s": heartbeat_timeout_s,
            "case": self.key,
            **({"run_tag": resolve[TAG]} if resolve and TAG in resolve else {}),
            **extra,
        }


def _resolve(value: str, resolve: dict[str, str] | None) -> str:
    if resolve is None:
        return value
    for placeholder, real in resolve.items():
        value = value.replace(placeholder, real)
    return value


_ERRORS_SSE: tuple[
    tuple[str, str, tuple[tuple[str, str], ...], str, str, int, str, frozenset[str]], ...
] = (
    # key, path, params, auth, token, status, error, needs
    (
        "sse-err-unknown-endpoint",
        f"{SSE_BASE}/nonexistent",
        (),
        "header",
        "a",
        400,
        "Unknown channel requested",
        frozenset(),
    ),
    (
        "sse-err-insufficient-scope",
        f"{SSE_BASE}/public",
        (),
        "header",
        "scope:read:notifications",
        401,
        "Access token does not have the required scopes",
        frozenset({"scoped-tokens"}),
    ),
    (
        "sse-err-hashtag-without-tag",
        f"{SSE_BASE}/hashtag",
        (),
        "header",
        "a",
        400,
        "Missing tag name parameter",
        frozenset(),
    ),
    (
        "sse-err-list-without-list",
        f"{SSE_BASE}/list",
        (),
        "header",
        "a",
        400,
        "Missing list name parameter",
        frozenset(),
    ),
    (
        "sse-err-foreign-list",
        f"{SSE_BASE}/list",
        (("list", LIST),),
        "header",
        "b",
        401,
        "Not authorized to stream this list",
        frozenset({"list"}),
    ),
)
_ERROR_STREAMS = {
    "sse-err-unknown-endpoint": None,
    "sse-err-insufficient-scope": "public",
    "sse-err-hashtag-without-tag": "hashtag",
    "sse-err-list-without-list": "list",
    "sse-err-foreign-list": "list",
}

#: WebSocket subscribe probes: (key, subscribe frame fields, expected error text, needs).
_WS_BAD_SUBSCRIBES: tuple[
    tuple[str, tuple[tuple[str, str], ...], str, str | None, frozenset[str]], ...
] = (
    (
        "ws-err-unknown-stream",
        (("stream", "nonexistent"),),
        "Unknown stream type",
        None,
        frozenset(),
    ),
    (
        "ws-err-hashtag-without-tag",
        (("stream", "hashtag"),),
        "Missing tag name parameter",
        "hashtag",
        frozenset(),
    ),
    (
        "ws-err-list-without-list",
        (("stream", "list"),),
        "Missing list name parameter",
        "list",
        frozenset(),
    ),
    (
        "ws-err-foreign-list",
        (("stream", "list"), ("list", "999999999")),
        "Not authorized to stream this list",
        "list",
        frozenset(),
    ),
)


#: How the main WebSocket connections carry the token: the documented ``?access_token=``
#: (streaming.md). Header and subprotocol are judged on their own probe connections, so a server
#: refusing one of them never leaves the multiplexing, error and stream-name cases unexercised.
WS_AUTH = "query"

#: The stream kinds the missing/invalid-token matrix covers on both transports.
TOKEN_MATRIX_STREAMS = ("user", "public", "hashtag", "list", "direct")


def _token_matrix() -> list[Connection]:
    """A missing and an invalid token on every stream kind, SSE and WebSocket: each must be
    refused (public and hashtag included: Mastodon requires a token on every stream since 4.2).
    The ``user`` probes keep their historic keys."""
    out: list[Connection] = []
    for kind in TOKEN_MATRIX_STREAMS:
        spec = BY_NAME[kind]
        needs = frozenset({"list"}) if kind == "list" else frozenset()
        suffix = "" if kind == "user" else f"-{kind}"
        for what, auth, token, error in (
            ("missing", "none", "none", "Missing access token"),
            ("invalid", "header", "invalid", "Invalid access token"),
        ):
            out.append(
                Connection(
                    f"sse-err-{what}-token{suffix}",
                    "http",
                    "error",
                    kind,
                    spec.sse_path,
                    spec.sse_params,
                    auth=auth,
                    token=token,
                    expect_status=401,
                    expect_error=error,
                    needs=needs,
                )
            )
        for what, auth, token, error in (
            ("missing", "none", "none", "Missing access token"),
            ("invalid", "query", "invalid", "Invalid access token"),
        ):
            out.append(
                Connection(
                    f"ws-err-{what}-token{suffix}",
                    "ws",
                    "error",
                    kind,
                    SSE_BASE,
                    (("stream", kind), *spec.ws_params),
                    auth=auth,
                    token=token,
                    expect_status=401,
                    expect_error=error,
                    needs=needs,
                )
            )
    return out


def connections(settings: Settings) -> list[Connection]:
    """Every transcript the run records, in a stable order."""
    out: list[Connection] = [
        Connection(
            "http-health", "http", "health", None, f"{SSE_BASE}/health", auth="none", token="none"
        ),
    ]
    from conformance.bare import is_bare

    # discovery documents (divergences.md §3.16); a bare streaming server has none
    for doc in () if is_bare(settings) else ("v2", "v1"):
        out.append(
            Connection(
                f"http-instance-{doc}",
                "http",
                "http",
                None,
                f"/api/{doc}/instance",
                auth="none",
                token="none",
                base="web",
                extra=(("instance_doc", doc),),
            )
        )
    for spec in STREAMS:
        needs = frozenset({"list"}) if spec.name == "list" else frozenset()
        out.append(
            Connection(
                f"sse-{spec.name}",
                "sse",
                "stream",
                spec.name,
                spec.sse_path,
                spec.sse_params,
                matrix=True,
                needs=needs,
            )
        )
    for spec in STREAMS:
        needs = frozenset({"list"}) if spec.name == "list" else frozenset()
        out.append(
            Connection(
                f"ws-{spec.name}",
                "ws",
                "stream",
                spec.name,
                SSE_BASE,
                (("stream", spec.name), *spec.ws_params),
                auth=WS_AUTH,
                matrix=True,
                needs=needs,
            )
        )
    out.append(
        Connection(
            OTHER_TAG_KEY, "sse", "stream", "hashtag", f"{SSE_BASE}/hashtag", (("tag", OTHER_TAG),)
        )
    )
    # Token sources, each on its own probe: SSE's main connections use the documented header,
    # WebSocket's the documented query; every source is also judged on a dedicated connection.
    for auth in ("header", "query", "subprotocol"):
        out.append(
            Connection(
                f"sse-user-auth-{auth}",
                "sse",
                "stream",
                "user",
                f"{SSE_BASE}/user",
                auth=auth,
                only=frozenset({"auth.sse.token-header"}) if auth == "header" else None,
            )
        )
        out.append(
            Connection(
                f"ws-user-auth-{auth}",
                "ws",
                "stream",
                "user",
                SSE_BASE,
                (("stream", "user"),),
                auth=auth,
                only=frozenset({"auth.ws.token-header"}) if auth == "header" else None,
            )
        )
    out.append(
        Connection(
            "ws-multiplex",
            "ws",
            "stream",
            None,
            SSE_BASE,
            auth=WS_AUTH,
            subscriptions=MUX_SUBSCRIPTIONS,
            role="mux",
        )
    )
    for key, path, params, auth, token, status, error, needs in _ERRORS_SSE:
        out.append(
            Connection(
                key,
                "http",
                "error",
                _ERROR_STREAMS[key],
                path,
                params,
                auth=auth,
                token=token,
                expect_status=status,
                expect_error=error,
                needs=needs,
            )
        )
    for key, fields, error, stream, needs in _WS_BAD_SUBSCRIBES:
        out.append(
            Connection(
                key,
                "ws",
                "stream",
                stream,
                SSE_BASE,
                auth=WS_AUTH,
                expect_error=error,
                subscriptions=(fields, (("stream", "user"),)),
                needs=needs,
            )
        )
    out.extend(_token_matrix())
    for transport in ("sse", "ws"):
        out.append(
            Connection(
                f"{transport}-user-revocable",
                transport,
                "stream",
                "user",
                f"{SSE_BASE}/user" if transport == "sse" else SSE_BASE,
                () if transport == "sse" else (("stream", "user"),),
                auth="header" if transport == "sse" else WS_AUTH,
                token="revocable",
                needs=frozenset({"revocation", "rest"}),
                role="revocable",
                extra=(("expect_close", True),),
            )
        )
    # Mixed-case hashtag subscriptions: statuses tagged lower-case must arrive, WS echoes the
    # spelling we subscribed with (judged by ws.message.stream-matches-subscription).
    out.append(
        Connection(
            HASHTAG_CASE_KEYS["sse"],
            "sse",
            "stream",
            "hashtag",
            f"{SSE_BASE}/hashtag",
            (("tag", MIXED_TAG),),
            only=frozenset(),
        )
    )
    out.append(
        Connection(
            HASHTAG_CASE_KEYS["ws"],
            "ws",
            "stream",
            "hashtag",
            SSE_BASE,
            (("stream", "hashtag"), ("tag", MIXED_TAG)),
            auth=WS_AUTH,
            only=frozenset({"ws.message.stream-matches-subscription"}),
        )
    )
    # An SSE stream nothing of ours reaches: with every other stream stimulated within
    # milliseconds, only an idle one shows a server that buffers until the first event.
    out.append(
        Connection(
            "sse-idle",
            "sse",
            "stream",
            "hashtag",
            f"{SSE_BASE}/hashtag",
            (("tag", IDLE_TAG),),
            only=frozenset({"http.sse.first-byte-prompt", "sse.heartbeat.within-timeout"}),
        )
    )
    # A binary frame from the client: Mastodon closes with 1003 (INFO, recorded).
    out.append(
        Connection(
            "ws-close-binary",
            "ws",
            "stream",
            "hashtag",
            SSE_BASE,
            (("stream", "hashtag"), ("tag", IDLE_TAG)),
            auth=WS_AUTH,
            role="binary",
            extra=(("send_binary", True), ("expect_close", True)),
            only=frozenset({"ws.close.binary-1003"}),
        )
    )
    # --long: one idle socket that answers pings (server keep-alive), one that never does.
    # Always planned, so a run without --long reports them not_exercised ("needs --long").
    for key, role, answer in (
        ("ws-long-server-ping", "server-ping", True),
        ("ws-long-no-pong", "no-pong", False),
    ):
        out.append(
            Connection(
                key,
                "ws",
                "stream",
                "hashtag",
                SSE_BASE,
                (("stream", "hashtag"), ("tag", IDLE_TAG)),
                auth=WS_AUTH,
                role=role,
                needs=frozenset({"long"}),
                extra=(("long", True), ("answer_pings", answer))
                + ((("expect_close", True),) if not answer else ()),
                only=frozenset(
                    {"ws.ping.server-keepalive"} if answer else {"ws.ping.no-pong-terminated"}
                ),
            )
        )
    return out


def connection_keys(settings: Settings) -> list[str]:
    """The keys of every connection a run with these settings opens (selection prunes by them)."""
    return [conn.key for conn in connections(settings)]
