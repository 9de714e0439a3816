"""Recognising the events our stimuli caused, by the ids the driver reported (never by timing).

Shared by the delivery judge (``judge.delivery``) and the live session's barriers (which wait
for exactly these matches), so both agree on what "our event arrived" means.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.judge.context import JudgeContext
from conformance.matrix.delivery_log import Seen
from conformance.matrix.steps import Step
from conformance.stimulus.base import Produced
from conformance.transcript.model import Transcript

BARE_STRING_EVENTS = frozenset({"delete", "announcement.delete", "notifications_merged"})
#: Keys that depend on who looks (or on when), ignored when comparing with the REST body.
VIEWER_KEYS = frozenset(
    {"favourited", "reblogged", "muted", "bookmarked", "pinned", "filtered", "quote_approval"}
)
VOLATILE_ACCOUNT_KEYS = frozenset(
    {"statuses_count", "followers_count", "following_count", "last_status_at"}
)


def decode_payload(event: str, payload: Any) -> Any:
    if not isinstance(payload, str) or event in BARE_STRING_EVENTS:
        return payload
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        return payload


def seen_events(transcript: Transcript) -> list[Seen]:
    """Every event a connection delivered, in arrival order, with decoded payloads."""
    cx = JudgeContext(transcript)
    return [
        Seen(i, d.name, decode_payload(d.name, d.payload), d.stream, d.raw, d.t)
        for i, d in enumerate(cx.delivered_events)
    ]


def _sid(value: Any) -> str | None:
    return None if value is None else str(value)


def matches(step: Step, produced: Produced, seen: Seen) -> bool:
    """Whether ``seen`` is the event ``step`` caused (by ids, never by timing)."""
    if step.match == "end":
        return False
    if step.event and seen.event != step.event:
        return False
    ids = produced.ids
    payload = seen.payload
    kind, _, sub = step.match.partition(":")
    if kind == "any":
        return True
    if kind == "status-id":
        return isinstance(payload, str | int) and str(payload).strip() == ids.get("status")
    if kind == "announcement-id":
        return isinstance(payload, str | int) and str(payload).strip() == ids.get("announcement")
    if not isinstance(payload, dict):
        return False
    if kind == "status":
        return _sid(payload.get("id")) == ids.get("status")
    if kind == "conversation":
        last = payload.get("last_status")
        return isinstance(last, dict) and _sid(last.get("id")) == ids.get("status")
    if kind == "announcement":
        return _sid(payload.get("id")) == ids.get("announcement")
    if kind == "reaction":
        return _sid(payload.get("announcement_id")) == ids.get("announcement")
    if kind == "notification":
        if payload.get("type") != sub:
            return False
        if sub == "follow":
            account = payload.get("account")
            return isinstance(account, dict) and _sid(account.get("id")) == ids.get("account")
        status = payload.get("status")
        return isinstance(status, dict) and _sid(status.get("id")) == ids.get("status")
    return False


_STATUS_EVENTS = frozenset({"update", "status.update", "conversation"})


def leaked(step: Step, produced: Produced, seen: Seen) -> bool:
    """Whether ``seen`` carries the status ``step`` produced in any event form, for absence.

    A direct message is expected as ``conversation`` on ``direct``, but leaks onto a public
    stream as ``update``; matching only the expected event would let every leak pass.
    """
    if matches(step, produced, seen):
        return True
    if step.match not in ("status", "conversation") or seen.event not in _STATUS_EVENTS:
        return False
    payload = seen.payload
    if not isinstance(payload, dict):
        return False
    status_id = produced.ids.get("status")
    if seen.event == "conversation":
        last = payload.get("last_status")
        return isinstance(last, dict) and _sid(last.get("id")) == status_id
    return _sid(payload.get("id")) == status_id


def compare_status(payload: Any, rest: dict[str, Any], path: str = "") -> list[str]:
    """Differences between a delivered status and its REST body, ignoring viewer keys."""
    if not isinstance(payload, dict):
        return [f"{path or '/'}: payload is {type(payload).__name__}, not an object"]
    diffs: list[str] = []
    ignore = VIEWER_KEYS | (VOLATILE_ACCOUNT_KEYS if path.endswith("account") else frozenset())
    for key in sorted(set(payload) | set(rest)):
        if key in ignore:
            continue
        here = f"{path}/{key}"
        if key not in payload:
            diffs.append(f"{here} missing")
        elif key not in rest:
            diffs.append(f"{here} not in the REST body")
        elif isinstance(payload[key], dict) and isinstance(rest[key], dict):
            diffs.extend(compare_status(payload[key], rest[key], here))
        elif payload[key] != rest[key]:
            diffs.append(f"{here}: {payload[key]!r} != {rest[key]!r}")
    return diffs


__all__ = [
    "BARE_STRING_EVENTS",
    "compare_status",
    "decode_payload",
    "leaked",
    "matches",
    "seen_events",
]
