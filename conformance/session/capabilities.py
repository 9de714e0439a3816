"""What a target claims it can do, decided from ``/api/v2/instance`` before anything is caused.

A scenario the target does not claim (an older Mastodon without edits, a server that advertises
no streaming URL) is ``not_exercised`` with the reason, never a ``fail``: the suite judges what a
server says it implements. The gating table is data (``GATES``) so it can be read, tested and
extended in one place; the runner asks ``gated_steps`` which plan steps to leave out and why.

Versions are read leniently from the ``version`` string: ``4.8.0-alpha.1`` -> (4, 8, 0),
``3.5.3+glitch`` -> (3, 5, 3), ``2.7.2 (compatible; Pleroma 2.5.0)`` -> (2, 7, 2) (a compatible
server claims that Mastodon version). A bare software version (GoToSocial ``0.19.1``) or a
development build claims no Mastodon version, and no claim means "assume capable": a missing
claim is not evidence of a missing feature. ``--api-version X`` overrides the claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from conformance.payloads.versions import claimed_api_version

__all__ = [
    "GATES",
    "NEED_REASONS",
    "NO_STREAMING_URL",
    "REFERENCE_FACTS",
    "Gate",
    "advertised_streaming_url",
    "gated_steps",
    "parse_version",
]

NO_STREAMING_URL = "no streaming URL advertised"

#: Why a run lacks one of a plan's ``needs``, naming what would provide it (the runner's
#: not_exercised messages). A stimulus driver adds facts it offers through ``facts()``.
NEED_REASONS: dict[str, str] = {
    "list": "no list id (give --list-id, or let the REST stimulus create one)",
    "reference": "needs the reference server's /_reference extras",
    "rest": "needs an active stimulus driver",
    "long": "needs --long",
    "public-posts": "public posts are off for this target (--allow-public-posts)",
    "remote-authors": "needs statuses by a remote author: --stimulus redis (or the reference "
    "server's /_reference extras)",
    "scoped-tokens": "needs tokens with chosen scopes: --database-url with --stimulus redis (or "
    "the reference server's /_reference extras)",
    "revocation": "needs a revocable token with a known id: --database-url with --stimulus "
    "redis (or the reference server's /_reference extras)",
}
#: What the reference server's /_reference extras give a run.
REFERENCE_FACTS = frozenset({"reference", "remote-authors", "scoped-tokens", "revocation"})


@dataclass(frozen=True, slots=True)
class Gate:
    """One capability: the plan steps that need it, and what makes a target have it.

    ``min_version``: the Mastodon version that introduced it (None: not version-bound).
    ``any_of``: run facts of which one must be present (``reference``: the reference server's
    extras; ``redis``: the Redis stimulus), e.g. announcements, which no Mastodon REST API
    publishes on demand.
    """

    name: str
    steps: frozenset[str]
    reason: str
    min_version: tuple[int, int, int] | None = None
    any_of: frozenset[str] = frozenset()


GATES: tuple[Gate, ...] = (
    Gate(
        "status-edits",
        frozenset({"E"}),
        "status.update (edits) needs Mastodon >= 3.5",
        min_version=(3, 5, 0),
    ),
    Gate(
        "filters-v2",
        frozenset({"FC"}),
        "v2 filters (/api/v2/filters) need Mastodon >= 4.0",
        min_version=(4, 0, 0),
    ),
    Gate(
        "notifications-merged",
        frozenset({"NM"}),
        "notifications_merged needs Mastodon >= 4.3",
        min_version=(4, 3, 0),
    ),
    Gate(
        "announcements",
        frozenset({"AN", "AR", "AD"}),
        "announcements need the reference server's extras or --stimulus redis",
        any_of=frozenset({"reference", "redis"}),
    ),
)


def parse_version(text: Any) -> tuple[int, int, int] | None:
    """The Mastodon API version a ``version`` string claims (``payloads.versions``), or None:
    GoToSocial's ``0.19.1``, Sharkey's ``2024.11.1`` and ``0.0.0-dev`` builds claim none."""
    return claimed_api_version(text if isinstance(text, str) else None)


def _fmt(version: tuple[int, int, int]) -> str:
    return ".".join(str(p) for p in version)


def gated_steps(version: str | None, facts: Iterable[str]) -> dict[str, str]:
    """``{step key: reason}`` for every step this target does not claim."""
    have = set(facts)
    parsed = parse_version(version)
    out: dict[str, str] = {}
    for gate in GATES:
        reason = None
        if gate.min_version is not None and parsed is not None and parsed < gate.min_version:
            reason = f"{gate.reason} (the target claims {_fmt(parsed)})"
        elif gate.any_of and not (gate.any_of & have):
            reason = gate.reason
        if reason is not None:
            for step in gate.steps:
                out.setdefault(step, reason)
    return out


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def advertised_streaming_url(instance: Mapping[str, Any]) -> str | None:
    """The streaming URL an instance document advertises (v2 shape first, then v1), or None."""
    for value in (
        _dig(instance, "configuration", "urls", "streaming"),
        _dig(instance, "urls", "streaming_api"),
    ):
        if isinstance(value, str) and urlsplit(value).scheme and urlsplit(value).netloc:
            return value
    return None
