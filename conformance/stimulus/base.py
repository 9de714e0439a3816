"""The stimulus contract: named scenarios, the Driver protocol, and what a driver hands back.

A live run has to *cause* events while its streams are open. Two very different mechanisms can
do that (the target's REST API, or publishing Mastodon's own Redis messages), so the session
speaks only in scenario names and lets a driver say which it can produce. The session then
judges delivery from what the driver reports it created (``Produced``), never from how.

Actors: ``a`` is the account of ``--token`` (the viewer of almost every stream the session
opens), ``b`` the account of ``--second-token`` (the one that causes most events A must see).
Setup makes A follow B and puts B on a list owned by A, so B's statuses reach A's home (``user``)
and ``list`` streams as they would for any follower.

Call order: ``setup()`` once, before streams open; ``produce()`` any number of times while they
are open; ``cleanup()`` exactly once, in a ``finally`` (it must undo everything, even after a
failure or cancellation, and must not raise).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from conformance.errors import StimulusError

# --- scenario names -------------------------------------------------------------------------
# Each is one thing a driver can make happen. Params a scenario takes are listed beside it.

STATUS_PUBLIC = "status.public"  # B posts a public status with the run's tag
STATUS_PUBLIC_MEDIA = "status.public.media"  # same, with one media attachment
STATUS_REMOTE = "status.remote"  # a remote account posts a public status with the tag
STATUS_UNLISTED = "status.unlisted"  # B posts unlisted (tag in text)
STATUS_PRIVATE = "status.private"  # B posts followers-only
STATUS_DIRECT = "status.direct"  # B sends A a direct message
STATUS_MENTION = "status.mention"  # B mentions A in an unlisted status
STATUS_OWN = "status.own"  # A posts (visibility param: unlisted by default, or public)
FAVOURITE = "favourite"  # B favourites A's status: status_id
REBLOG = "reblog"  # B reblogs A's status: status_id
FOLLOW = "follow"  # B follows A (a follow notification for A)
STATUS_EDIT = "status.edit"  # B edits a status: status_id
STATUS_DELETE = "status.delete"  # B deletes a status: status_id
LIST_MEMBER_STATUS = "list.member-status"  # B (on A's list) posts followers-only
FILTER_CHANGE = "filter.change"  # A creates a v2 filter (filters_changed)
MUTED_AUTHOR = "status.muted-author"  # A mutes B, then B posts public with the tag
BLOCKED_AUTHOR = "status.blocked-author"  # A blocks the remote author, who posts public
STATUS_REMOTE_MEDIA = "status.remote.media"  # a remote account posts public with media
ANNOUNCEMENT = "announcement"  # an announcement is published
ANNOUNCEMENT_REACTION = "announcement.reaction"  # A reacts to it: announcement_id
ANNOUNCEMENT_DELETE = "announcement.delete"  # it is withdrawn: announcement_id
NOTIFICATIONS_MERGED = "notifications-merged"  # filtered notifications are merged back
TOKEN_REVOKE = "token.revoke"  # the token in setup's tokens["revocable"] is revoked

SCENARIOS: tuple[str, ...] = (
    STATUS_PUBLIC,
    STATUS_PUBLIC_MEDIA,
    STATUS_REMOTE,
    STATUS_REMOTE_MEDIA,
    STATUS_UNLISTED,
    STATUS_PRIVATE,
    STATUS_DIRECT,
    STATUS_MENTION,
    STATUS_OWN,
    FAVOURITE,
    REBLOG,
    FOLLOW,
    STATUS_EDIT,
    STATUS_DELETE,
    LIST_MEMBER_STATUS,
    FILTER_CHANGE,
    MUTED_AUTHOR,
    BLOCKED_AUTHOR,
    ANNOUNCEMENT,
    ANNOUNCEMENT_REACTION,
    ANNOUNCEMENT_DELETE,
    NOTIFICATIONS_MERGED,
    TOKEN_REVOKE,
)

#: Scenarios that put a public status on the public/hashtag timelines of the target.
PUBLIC_POSTING = frozenset({STATUS_PUBLIC, STATUS_PUBLIC_MEDIA, MUTED_AUTHOR})


class ScenarioUnsupported(StimulusError):
    """The driver cannot produce this scenario on this target; cases depending on it are
    not_exercised with ``reason``."""

    def __init__(self, scenario: str, reason: str) -> None:
        super().__init__(f"{scenario}: {reason}")
        self.scenario = scenario
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    acct: str
    username: str = ""


@dataclass(frozen=True, slots=True)
class SetupInfo:
    """What ``setup()`` established. ``tokens`` holds extra credentials a driver could mint, by
    role: ``"scope:read:notifications"`` (a token with only that scope), ``"revocable"`` (a
    full-read token the ``token.revoke`` scenario revokes). Never log it."""

    a: Account
    b: Account
    list_id: str | None
    tokens: dict[str, str] = field(default_factory=dict, repr=False)
    remote_acct: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Produced:
    """What a ``produce()`` call made happen, for the delivery judge.

    ``ids``: the objects created or touched, by role (``status``, ``notification_target``,
    ``announcement``, ``filter``, ``account`` ...). ``rest_bodies``: the REST representation of
    those objects as the API returned it, by the same role and from the viewer named in
    ``detail["viewer"]`` where that matters, so payloads can be compared with it.
    ``detail``: anything else worth a transcript line (never a token).
    """

    scenario: str
    marker: str
    ids: dict[str, str] = field(default_factory=dict)
    rest_bodies: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Driver(Protocol):
    """Causes events on the target. Implementations: ``rest.RestDriver``, ``redis.RedisDriver``.

    Optional: ``async rewind()`` undoes what the steps changed since ``setup`` (mutes, blocks,
    statuses) and keeps what setup made; the session calls it between ``--max-connections``
    batches (``session/batches.py``), so each batch starts from the same state."""

    name: str

    def supports(self, scenario: str) -> bool:
        """True if ``produce(scenario, ...)`` can work on this target (decided after setup)."""
        ...

    def unsupported_reason(self, scenario: str) -> str:
        """Why ``supports(scenario)`` is False, for the not_exercised message."""
        ...

    async def setup(self) -> SetupInfo:
        """Discover the accounts and create the relations every scenario relies on."""
        ...

    async def produce(self, scenario: str, marker: str, **params: Any) -> Produced:
        """Cause the scenario; raises ``ScenarioUnsupported`` or ``StimulusError``."""
        ...

    async def cleanup(self) -> None:
        """Undo everything created or changed; never raises."""
        ...


__all__ = [
    "PUBLIC_POSTING",
    "SCENARIOS",
    "Account",
    "Driver",
    "Produced",
    "ScenarioUnsupported",
    "SetupInfo",
    "StimulusError",
    "with_world_tokens",
]


def with_world_tokens(settings: Any, info: Any) -> Any:
    """``settings`` with the world's A/B tokens, account ids and list (``info``: SetupInfo).

    Only a driver with a database hands back tokens for ``a`` and ``b``; its accounts then *are*
    A and B, so they replace whatever was configured. Without this a bare run with
    ``--database-url`` would have no token to open its streams with.
    """
    tokens = getattr(info, "tokens", None) or {}
    if not dataclasses.is_dataclass(settings) or not tokens.get("a") or not tokens.get("b"):
        return settings
    return dataclasses.replace(
        settings,  # type: ignore[type-var]
        token=tokens["a"],
        second_token=tokens["b"],
        account_id=info.a.id,
        second_account_id=info.b.id,
        list_id=info.list_id,
    )
