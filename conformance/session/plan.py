"""What a live run opens and what it stimulates, as data tables.

Everything here is pure and deterministic: the same ``Settings`` give the same connections, the
same stimulus steps and the same case ids, so pytest can collect the cases before anything
touches the network. Values only known at run time (the random run tag, the list id, minted
tokens) appear as placeholders (``{tag}``, ``{list}``, ``{other_tag}``) and are resolved by the
runner; they never enter an id.

Viewer: every delivery connection is opened with ``--token`` (account A). The stimulus steps
(``STEPS``) say, per scenario, which streams must carry the event and which must not; a
must-not is judged once a later step's event arrives on that stream (its *barrier*), which the
plan computes, so no check ever sleeps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from conformance.stimulus import base as sc

TAG = "{tag}"
OTHER_TAG = "{other_tag}"
IDLE_TAG = "{tag}idle"  # a hashtag nothing posts to: an idle subscription
MIXED_TAG = "{mixed_tag}"  # the run's tag in mixed case (posts use it lower-cased)
LIST = "{list}"
SSE_BASE = "/api/v1/streaming"


@dataclass(frozen=True, slots=True)
class PlannedCase:
    """One collected pytest case; ``needs`` names what a run must offer to exercise it."""

    id: str
    requirement: str
    group: str
    transport: str | None
    stream: str | None
    event: str | None
    needs: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class StreamSpec:
    name: str
    sse_path: str
    sse_params: tuple[tuple[str, str], ...] = ()
    ws_params: tuple[tuple[str, str], ...] = ()


#: The 12 stream values, with their SSE path and query and their WebSocket parameters.
STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("user", f"{SSE_BASE}/user"),
    StreamSpec("user:notification", f"{SSE_BASE}/user/notification"),
    StreamSpec("public", f"{SSE_BASE}/public"),
    StreamSpec("public:media", f"{SSE_BASE}/public", (("only_media", "true"),)),
    StreamSpec("public:local", f"{SSE_BASE}/public/local"),
    StreamSpec("public:local:media", f"{SSE_BASE}/public/local", (("only_media", "true"),)),
    StreamSpec("public:remote", f"{SSE_BASE}/public/remote"),
    StreamSpec("public:remote:media", f"{SSE_BASE}/public/remote", (("only_media", "true"),)),
    StreamSpec("hashtag", f"{SSE_BASE}/hashtag", (("tag", TAG),), (("tag", TAG),)),
    StreamSpec("hashtag:local", f"{SSE_BASE}/hashtag/local", (("tag", TAG),), (("tag", TAG),)),
    StreamSpec("list", f"{SSE_BASE}/list", (("list", LIST),), (("list", LIST),)),
    StreamSpec("direct", f"{SSE_BASE}/direct"),
)
STREAM_NAMES = tuple(s.name for s in STREAMS)
PUBLIC_STREAMS = frozenset(n for n in STREAM_NAMES if n.startswith(("public", "hashtag")))
BY_NAME = {s.name: s for s in STREAMS}

#: Events the plan causes but no conformant server delivers (Mastodon >= 4.3 drops
#: ``filters_changed``): judged by the delivery judge only, never expected of a transcript.
NEVER_EXPECTED = frozenset({"filters_changed"})

#: An extra SSE hashtag stream on a tag nothing of ours carries, except one late step.
OTHER_TAG_KEY = "sse-hashtag-other"


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
            **extra,
        }


def _resolve(value: str, resolve: dict[str, str] | None) -> str:
    if resolve is None:
        return value
    for placeholder, real in resolve.items():
        value = value.replace(placeholder, real)
    return value


# --- stimulus steps ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One stimulus and what it must (and must not) cause on A's streams.

    ``match`` says how our event is recognised in a payload: ``status`` (payload id is the
    produced status), ``status-id`` (payload is the id string: delete), ``notification:<type>``,
    ``conversation``, ``announcement``, ``reaction``, ``announcement-id``, ``any`` (event name
    only, e.g. ``filters_changed``). ``params`` values ``@KEY.role`` refer to an earlier step's
    ``Produced.ids[role]``; ``targets`` lists alternatives (first produced wins). ``arrive_from``
    limits ``arrive`` to the streams where that earlier step's event was actually seen (edit,
    delete: "every stream that got the status"). ``sync_before`` waits for every earlier
    must-arrive first (a mute must not race the events before it).
    """

    key: str
    scenario: str
    event: str
    match: str
    requirement: str
    arrive: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    absent_requirement: str | None = None
    params: tuple[tuple[str, Any], ...] = ()
    targets: tuple[str, ...] = ()
    arrive_from: str | None = None
    sync_before: bool = False
    extra_absent_keys: tuple[str, ...] = ()  # non-matrix connection keys (other-tag stream)
    needs: frozenset[str] = frozenset({"rest"})
    warmup: bool = False
    drivers: frozenset[str] | None = None  # stimulus drivers that plan it (None: every one)


_HOME = ("user", "list")
_TAGGED = ("public", "public:local", "hashtag", "hashtag:local")
_MEDIA = ("public:media", "public:local:media", "public:remote:media")
_NOTIF = ("user", "user:notification")
_PUB_NEEDS = frozenset({"rest", "public-posts"})
_REF_NEEDS = frozenset({"rest", "reference"})

#: Warm-up: proves each subscription is live before anything is judged (events published
#: before a subscription is active are lost on Mastodon). Not judged as delivery.
WARMUP: tuple[Step, ...] = (
    Step(
        "W-media",
        sc.STATUS_PUBLIC_MEDIA,
        "update",
        "status",
        "",
        arrive=(*_HOME, *_TAGGED, "public:media", "public:local:media"),
        needs=_PUB_NEEDS,
        warmup=True,
    ),
    Step("W-private", sc.STATUS_PRIVATE, "update", "status", "", arrive=_HOME, warmup=True),
    Step(
        "W-remote",
        sc.STATUS_REMOTE_MEDIA,
        "update",
        "status",
        "",
        arrive=("public:remote", "public:remote:media"),
        needs=_REF_NEEDS,
        warmup=True,
    ),
    Step(
        "W-direct",
        sc.STATUS_DIRECT,
        "conversation",
        "conversation",
        "",
        arrive=("direct",),
        warmup=True,
    ),
    Step(
        "W-mention",
        sc.STATUS_MENTION,
        "notification",
        "notification:mention",
        "",
        arrive=("user:notification",),
        warmup=True,
    ),
)

STEPS: tuple[Step, ...] = (
    Step(
        "P",
        sc.STATUS_PUBLIC,
        "update",
        "status",
        "delivery.public-status.arrives",
        arrive=(*_HOME, *_TAGGED),
        absent=("public:remote", *_MEDIA, "user:notification", "direct"),
        absent_requirement="delivery.public-status.excluded",
        extra_absent_keys=(OTHER_TAG_KEY,),
        needs=_PUB_NEEDS,
    ),
    Step(
        "PM",
        sc.STATUS_PUBLIC_MEDIA,
        "update",
        "status",
        "delivery.media-status.arrives",
        arrive=(*_HOME, *_TAGGED, "public:media", "public:local:media"),
        absent=("public:remote", "public:remote:media"),
        absent_requirement="delivery.media-status.excluded",
        needs=_PUB_NEEDS,
    ),
    Step(
        "R",
        sc.STATUS_REMOTE_MEDIA,
        "update",
        "status",
        "delivery.remote-status.arrives",
        arrive=("public", "public:media", "public:remote", "public:remote:media", "hashtag"),
        absent=("public:local", "public:local:media", "hashtag:local", *_HOME),
        absent_requirement="delivery.remote-status.excluded",
        needs=_REF_NEEDS,
    ),
    Step(
        "U",
        sc.STATUS_UNLISTED,
        "update",
        "status",
        "delivery.unlisted-status.arrives",
        arrive=_HOME,
        absent=_TAGGED,
        absent_requirement="delivery.unlisted-status.excluded",
    ),
    Step(
        "PR",
        sc.STATUS_PRIVATE,
        "update",
        "status",
        "delivery.private-status.arrives",
        arrive=_HOME,
        absent=_TAGGED,
        absent_requirement="delivery.private-status.excluded",
    ),
    Step(
        "L",
        sc.LIST_MEMBER_STATUS,
        "update",
        "status",
        "delivery.list-member.arrives",
        arrive=("list",),
    ),
    Step(
        "M",
        sc.STATUS_MENTION,
        "notification",
        "notification:mention",
        "delivery.mention.notifies",
        arrive=_NOTIF,
    ),
    Step(
        "D",
        sc.STATUS_DIRECT,
        "conversation",
        "conversation",
        "delivery.direct.conversation",
        arrive=("direct",),
        absent=_TAGGED,
        absent_requirement="delivery.direct.excluded",
    ),
    Step(
        "DN",
        sc.STATUS_DIRECT,
        "notification",
        "notification:mention",
        "delivery.direct.notifies",
        arrive=_NOTIF,
    ),
    Step("O", sc.STATUS_OWN, "update", "status", "delivery.own-status.arrives", arrive=("user",)),
    Step(
        "F",
        sc.FAVOURITE,
        "notification",
        "notification:favourite",
        "delivery.favourite.notifies",
        arrive=_NOTIF,
        params=(("status_id", "@O.status"),),
    ),
    Step(
        "RB",
        sc.REBLOG,
        "notification",
        "notification:reblog",
        "delivery.reblog.notifies",
        arrive=_NOTIF,
        params=(("status_id", "@O.status"),),
    ),
    Step(
        "FO",
        sc.FOLLOW,
        "notification",
        "notification:follow",
        "delivery.follow.notifies",
        arrive=_NOTIF,
    ),
    Step(
        "E",
        sc.STATUS_EDIT,
        "status.update",
        "status",
        "delivery.edit.status-update",
        arrive=(*_HOME, *_TAGGED),
        targets=("P", "PR"),
        arrive_from="@target",
    ),
    Step(
        "X",
        sc.STATUS_DELETE,
        "delete",
        "status-id",
        "delivery.delete.everywhere",
        arrive=(*_HOME, *_TAGGED),
        targets=("P", "PR"),
        arrive_from="@target",
    ),
    Step(
        "FC",
        sc.FILTER_CHANGE,
        "filters_changed",
        "any",
        "delivery.filter-change.observed",
        arrive=("user",),
    ),
    Step(
        "AN",
        sc.ANNOUNCEMENT,
        "announcement",
        "announcement",
        "delivery.announcement.arrives",
        arrive=("user",),
    ),
    Step(
        "AR",
        sc.ANNOUNCEMENT_REACTION,
        "announcement.reaction",
        "reaction",
        "delivery.announcement-reaction.arrives",
        arrive=("user",),
        params=(("announcement_id", "@AN.announcement"),),
    ),
    Step(
        "AD",
        sc.ANNOUNCEMENT_DELETE,
        "announcement.delete",
        "announcement-id",
        "delivery.announcement-delete.arrives",
        arrive=("user",),
        params=(("announcement_id", "@AN.announcement"),),
    ),
    Step(
        "BL",
        sc.BLOCKED_AUTHOR,
        "update",
        "status",
        "",
        absent=("public", "hashtag"),
        absent_requirement="delivery.blocked-author.excluded",
        sync_before=True,
        needs=frozenset({"rest", "reference", "public-posts"}),
    ),
    Step(
        "MU",
        sc.MUTED_AUTHOR,
        "update",
        "status",
        "",
        absent=("public", "public:local", "hashtag", "hashtag:local"),
        absent_requirement="delivery.muted-author.excluded",
        sync_before=True,
        needs=_PUB_NEEDS,
    ),
    # Closing barriers: public statuses by A (muting B must not hide them; with media, so the
    # media streams get one too) and one on the other tag.
    Step(
        "Z",
        sc.STATUS_OWN,
        "update",
        "status",
        "delivery.own-status.arrives",
        arrive=("user", *_TAGGED, "public:media", "public:local:media"),
        params=(("visibility", "public"), ("media", True)),
        needs=_PUB_NEEDS,
    ),
    Step(
        "ZT",
        sc.STATUS_OWN,
        "update",
        "status",
        "delivery.other-tag.arrives",
        params=(("visibility", "public"), ("tag", OTHER_TAG)),
        needs=_PUB_NEEDS,
    ),
    Step(
        "NM",
        sc.NOTIFICATIONS_MERGED,
        "notifications_merged",
        "any",
        "delivery.notifications-merged.arrives",
        arrive=_NOTIF,
        drivers=frozenset({"redis"}),  # no REST API causes it on demand
    ),
    Step("TR", sc.TOKEN_REVOKE, "", "end", "delivery.token-revoke.ends-stream", needs=_REF_NEEDS),
)
STEP_BY_KEY = {s.key: s for s in (*WARMUP, *STEPS)}

#: Steps whose single delivery per subscription is judged (divergences.md §3.11, §3.20).
ONCE: dict[str, str] = {"P": "delivery.create.once", "E": "delivery.edit.once"}

#: Hashtag streams subscribed with a mixed-case spelling of the run's tag (§3.17), by transport.
HASHTAG_CASE_KEYS = {"sse": "sse-hashtag-case", "ws": "ws-hashtag-case"}


def steps_for(settings: Any) -> tuple[Step, ...]:
    """The steps a run with these settings plans: some need a particular stimulus driver."""
    driver = getattr(settings, "stimulus", "rest") if settings is not None else "rest"
    return tuple(s for s in STEPS if s.drivers is None or driver in s.drivers)


#: Where ZT's event must arrive (a non-matrix connection), so the other-tag check has a barrier.
EXTRA_ARRIVALS: dict[str, tuple[str, ...]] = {"ZT": (OTHER_TAG_KEY,)}


def barrier_for(step_key: str, target: str, steps: tuple[Step, ...] = STEPS) -> str | None:
    """The first later step whose event must arrive on ``target`` (a stream name or, for
    extra connections, a connection key): once it arrives, ``step_key``'s absence is judged."""
    keys = [s.key for s in steps]
    for later in steps[keys.index(step_key) + 1 :]:
        if later.arrive_from is not None:
            continue  # its arrival set depends on the run: not a dependable barrier
        if target in later.arrive or target in EXTRA_ARRIVALS.get(later.key, ()):
            return later.key
    return None


# --- connections ---------------------------------------------------------------------------

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
        "sse-err-missing-token",
        f"{SSE_BASE}/user",
        (),
        "none",
        "none",
        401,
        "Missing access token",
        frozenset(),
    ),
    (
        "sse-err-invalid-token",
        f"{SSE_BASE}/user",
        (),
        "header",
        "invalid",
        401,
        "Invalid access token",
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
        frozenset({"reference"}),
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
    "sse-err-missing-token": "user",
    "sse-err-invalid-token": "user",
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

MUX_SUBSCRIPTIONS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("stream", "user"),),
    (("stream", "public:local"),),
    (("stream", "hashtag"), ("tag", TAG)),
)
MUX_UNSUBSCRIBED = "public:local"


def connections(settings: Any) -> list[Connection]:
    """Every transcript the run records, in a stable order."""
    out: list[Connection] = [
        Connection(
            "http-health", "http", "health", None, f"{SSE_BASE}/health", auth="none", token="none"
        ),
    ]
    for doc in ("v2", "v1"):  # discovery documents (divergences.md §3.16)
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
                matrix=True,
                needs=needs,
            )
        )
    out.append(
        Connection(
            OTHER_TAG_KEY, "sse", "stream", "hashtag", f"{SSE_BASE}/hashtag", (("tag", OTHER_TAG),)
        )
    )
    # Token sources: header is the default above; query and subprotocol on both transports.
    for auth in ("query", "subprotocol"):
        out.append(
            Connection(
                f"sse-user-auth-{auth}", "sse", "stream", "user", f"{SSE_BASE}/user", auth=auth
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
            )
        )
    out.append(
        Connection(
            "ws-multiplex",
            "ws",
            "stream",
            None,
            SSE_BASE,
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
                auth="header",
                expect_error=error,
                subscriptions=(fields, (("stream", "user"),)),
                needs=needs,
            )
        )
    out.append(
        Connection(
            "ws-err-missing-token",
            "ws",
            "error",
            "user",
            SSE_BASE,
            (("stream", "user"),),
            auth="none",
            token="none",
            expect_status=401,
            expect_error="Missing access token",
        )
    )
    out.append(
        Connection(
            "ws-err-invalid-token",
            "ws",
            "error",
            "user",
            SSE_BASE,
            (("stream", "user"),),
            auth="query",
            token="invalid",
            expect_status=401,
            expect_error="Invalid access token",
        )
    )
    for transport in ("sse", "ws"):
        out.append(
            Connection(
                f"{transport}-user-revocable",
                transport,
                "stream",
                "user",
                f"{SSE_BASE}/user" if transport == "sse" else SSE_BASE,
                () if transport == "sse" else (("stream", "user"),),
                token="revocable",
                needs=frozenset({"reference", "rest"}),
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


def expected_events(conn: Connection, settings: Any) -> list[str]:
    """Events the plan expects on a connection: drives the judges' per-event payload cases."""
    if conn.purpose != "stream" or conn.expect_error or conn.only is not None:
        return []
    if conn.key == OTHER_TAG_KEY:
        return ["update"]
    streams: set[str] = set()
    if conn.stream in STREAM_NAMES and conn.role != "mux":
        streams = {conn.stream}
    elif conn.role == "mux":
        streams = {dict(s)["stream"] for s in conn.subscriptions}
    if not streams or getattr(settings, "read_only", False):
        return []
    events = {s.event for s in steps_for(settings) if s.event and streams & set(s.arrive)}
    return sorted(events - NEVER_EXPECTED)


# --- planned cases -------------------------------------------------------------------------


def delivery_cases(settings: Any = None) -> list[PlannedCase]:
    """The delivery matrix and multiplexing cases (this package's own requirement ids)."""
    out: list[PlannedCase] = []
    seen: set[str] = set()

    def add(case: PlannedCase) -> None:
        if case.id not in seen:
            seen.add(case.id)
            out.append(case)

    for step in steps_for(settings):
        if step.scenario == sc.TOKEN_REVOKE:
            for transport in ("sse", "ws"):
                add(
                    PlannedCase(
                        f"{step.requirement}[{transport}-user]",
                        step.requirement,
                        "delivery",
                        transport,
                        "user",
                        None,
                        step.needs,
                    )
                )
            continue
        for stream in step.arrive:
            for transport in ("sse", "ws"):
                cid = f"{step.requirement}[{transport}-{stream}-{step.event}]"
                add(
                    PlannedCase(
                        cid, step.requirement, "delivery", transport, stream, step.event, step.needs
                    )
                )
        if step.key in EXTRA_ARRIVALS:
            add(
                PlannedCase(
                    f"{step.requirement}[sse-hashtag-{step.event}]",
                    step.requirement,
                    "delivery",
                    "sse",
                    "hashtag",
                    step.event,
                    step.needs,
                )
            )
        for stream in step.absent:
            assert step.absent_requirement
            for transport in ("sse", "ws"):
                cid = f"{step.absent_requirement}[{transport}-{stream}-{step.event}]"
                add(
                    PlannedCase(
                        cid,
                        step.absent_requirement,
                        "delivery",
                        transport,
                        stream,
                        step.event,
                        step.needs,
                    )
                )
        for _key in step.extra_absent_keys:
            add(
                PlannedCase(
                    "delivery.other-tag.excluded[sse-hashtag-update]",
                    "delivery.other-tag.excluded",
                    "delivery",
                    "sse",
                    "hashtag",
                    "update",
                    step.needs,
                )
            )
    for step in steps_for(settings):
        if step.key not in ONCE:
            continue
        for stream in step.arrive:
            for transport in ("sse", "ws"):
                add(
                    PlannedCase(
                        f"{ONCE[step.key]}[{transport}-{stream}-{step.event}]",
                        ONCE[step.key],
                        "delivery",
                        transport,
                        stream,
                        step.event,
                        step.needs,
                    )
                )
    for transport in HASHTAG_CASE_KEYS:
        add(
            PlannedCase(
                f"delivery.hashtag.case-insensitive[{transport}-hashtag-update]",
                "delivery.hashtag.case-insensitive",
                "delivery",
                transport,
                "hashtag",
                "update",
                _PUB_NEEDS,
            )
        )
    # Payload equality with the REST representation: home (rendered for A) and anonymous.
    for stream in ("user", "list", "public", "hashtag"):
        for transport in ("sse", "ws"):
            add(
                PlannedCase(
                    f"delivery.payload.matches-rest[{transport}-{stream}-update]",
                    "delivery.payload.matches-rest",
                    "delivery",
                    transport,
                    stream,
                    "update",
                    frozenset({"rest", "public-posts"})
                    if stream in PUBLIC_STREAMS
                    else frozenset({"rest"}),
                )
            )
    for sub in MUX_SUBSCRIPTIONS:
        stream = dict(sub)["stream"]
        add(
            PlannedCase(
                f"ws.multiplex.delivers-each[ws-{stream}]",
                "ws.multiplex.delivers-each",
                "websocket",
                "ws",
                stream,
                None,
                frozenset({"rest"}),
            )
        )
        add(
            PlannedCase(
                f"ws.multiplex.no-duplicates[ws-{stream}]",
                "ws.multiplex.no-duplicates",
                "websocket",
                "ws",
                stream,
                None,
                frozenset({"rest"}),
            )
        )
    add(
        PlannedCase(
            f"ws.multiplex.unsubscribe-stops[ws-{MUX_UNSUBSCRIBED}]",
            "ws.multiplex.unsubscribe-stops",
            "websocket",
            "ws",
            MUX_UNSUBSCRIBED,
            None,
            _PUB_NEEDS,
        )
    )
    add(
        PlannedCase(
            "ws.multiplex.unsubscribe-keeps-others[ws-hashtag]",
            "ws.multiplex.unsubscribe-keeps-others",
            "websocket",
            "ws",
            "hashtag",
            None,
            _PUB_NEEDS,
        )
    )
    return out


def plan_meta(conn: Connection, settings: Any) -> Any:
    """The Meta a connection's transcript will carry, with placeholders unresolved."""
    from conformance.transcript.model import Meta

    return Meta(
        id=conn.key,
        transport=conn.transport,
        request={"path": conn.path, "params": dict(conn.params)},
        context=conn.context(
            heartbeat_timeout_s=float(settings.heartbeat_timeout_s),
            expect_events=expected_events(conn, settings),
            ping_timeout_s=float(getattr(settings, "ping_timeout_s", 35.0)),
        ),
    )


def _judge_planned(meta: Any) -> list[Any]:
    try:
        from conformance.judge import planned_results
    except ImportError:  # the judges are not installed: only this package's own cases
        return []
    return list(planned_results(meta))


def plan_cases(settings: Any) -> list[PlannedCase]:
    """Every case id a run with these settings reports on: deterministic, no I/O."""
    out: list[PlannedCase] = []
    seen: set[str] = set()
    for conn in connections(settings):
        if conn.role == "revocable":
            continue  # it ends on purpose: only the delivery judge reads it
        for planned in _judge_planned(plan_meta(conn, settings)):
            if planned.id in seen:
                continue  # the same check on two transcripts: one case, worst verdict wins
            seen.add(planned.id)
            out.append(
                PlannedCase(
                    id=planned.id,
                    requirement=planned.requirement,
                    group=group_of(planned.requirement),
                    transport=conn.transport,
                    stream=conn.stream,
                    event=getattr(planned, "event", None),
                    needs=conn.needs,
                )
            )
    for case in delivery_cases(settings):
        if case.id not in seen:
            seen.add(case.id)
            out.append(case)
    out.append(
        PlannedCase(
            "discovery.streaming-url.agree[http-instance]",
            "discovery.streaming-url.agree",
            "discovery",
            "http",
            None,
            None,
        )
    )
    if getattr(settings, "read_only", False):
        out.append(
            PlannedCase(
                "delivery.read-only.observed[sse-public]",
                "delivery.read-only.observed",
                "delivery",
                "sse",
                "public",
                None,
                frozenset({"read-only"}),
            )
        )
    return out


#: Requirement id prefix -> the case module group (``conformance/cases/test_<group>.py``).
_GROUPS: tuple[tuple[str, str], ...] = (
    ("sse.framing.", "sse_framing"),
    ("sse.heartbeat.", "heartbeat"),
    ("http.", "http"),
    ("errors.", "errors"),
    ("ws.", "websocket"),
    ("events.", "payloads"),
    ("payload.", "payloads"),
    ("delivery.", "delivery"),
)


def group_of(requirement: str) -> str:
    for prefix, group in _GROUPS:
        if requirement.startswith(prefix):
            return group
    return requirement.split(".", 1)[0]


__all__ = [
    "STEPS",
    "STREAMS",
    "WARMUP",
    "Connection",
    "PlannedCase",
    "Step",
    "barrier_for",
    "connections",
    "delivery_cases",
    "expected_events",
    "plan_cases",
    "plan_meta",
]
