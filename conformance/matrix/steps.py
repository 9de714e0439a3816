"""The stimulus-step table: what each stimulus must (and must not) cause on A's streams.

A must-not is judged once a later step's event arrives on that stream (its *barrier*, computed
here from the table), so no check ever sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.config import Settings
from conformance.matrix.keys import OTHER_TAG_KEY
from conformance.matrix.streams import OTHER_TAG
from conformance.stimulus import base as sc


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
PUB_NEEDS = frozenset({"rest", "public-posts"})
_REMOTE_NEEDS = frozenset({"rest", "remote-authors"})  # capabilities.NEED_REASONS says who

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
        needs=PUB_NEEDS,
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
        needs=_REMOTE_NEEDS,
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
        needs=PUB_NEEDS,
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
        needs=PUB_NEEDS,
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
        needs=_REMOTE_NEEDS,
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
        needs=frozenset({"rest", "remote-authors", "public-posts"}),
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
        needs=PUB_NEEDS,
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
        needs=PUB_NEEDS,
    ),
    Step(
        "ZT",
        sc.STATUS_OWN,
        "update",
        "status",
        "delivery.other-tag.arrives",
        params=(("visibility", "public"), ("tag", OTHER_TAG)),
        needs=PUB_NEEDS,
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
    Step(
        "TR",
        sc.TOKEN_REVOKE,
        "",
        "end",
        "delivery.token-revoke.ends-stream",
        needs=frozenset({"rest", "revocation"}),
    ),
)
STEP_BY_KEY = {s.key: s for s in (*WARMUP, *STEPS)}

#: Steps whose single delivery per subscription is judged (divergences.md §3.11, §3.20).
ONCE: dict[str, str] = {"P": "delivery.create.once", "E": "delivery.edit.once"}


def steps_for(settings: Settings | None) -> tuple[Step, ...]:
    """The steps a run with these settings plans (None: the defaults); some need a particular
    stimulus driver."""
    driver = settings.stimulus if settings is not None else "rest"
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
