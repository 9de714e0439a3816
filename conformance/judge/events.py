"""Event names and payload encodings, the same rules on SSE (data line) and WS (payload key)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from conformance import safejson
from conformance.judge.context import Delivered, JudgeContext
from conformance.judge.registry import (
    Observation,
    all_of,
    check,
    expects,
    has_purpose,
    held,
    is_transport,
    never,
    noted,
    unexercised,
    violated,
)

on_streams = all_of(is_transport("sse", "ws"), has_purpose("stream", "handshake"))

#: streaming.md 'Event types' (plus notifications_merged, 4.3+).
DOCUMENTED_EVENTS = frozenset(
    {
        "update",
        "status.update",
        "delete",
        "notification",
        "conversation",
        "announcement",
        "announcement.reaction",
        "announcement.delete",
        "filters_changed",
        "notifications_merged",
    }
)
OBJECT_EVENTS = (
    "update",
    "status.update",
    "notification",
    "conversation",
    "announcement",
    "announcement.reaction",
)
_BARE_ID = re.compile(r"^[A-Za-z0-9_.:-]+$")
VENDOR_PREFIX = re.compile(r"^[a-z][a-z0-9_-]*:")


def _where(ev: Delivered) -> str:
    return f"{ev.name} at t={ev.t:.3f}"


@check("events.name.documented", applies=on_streams, plan=never, per_event=True)
def name_documented(cx: JudgeContext) -> Iterator[Observation]:
    for ev in cx.delivered():
        if ev.name not in DOCUMENTED_EVENTS and not VENDOR_PREFIX.match(ev.name):
            yield noted(
                f"undocumented event name {ev.name!r} (Mastodon forwards any name; "
                "clients ignore or crash on it)",
                evidence=ev.raw,
                event=ev.name,
            )


@check("events.name.vendor-prefixed", applies=on_streams, plan=never, per_event=True)
def name_vendor(cx: JudgeContext) -> Iterator[Observation]:
    for ev in cx.delivered():
        if ev.name not in DOCUMENTED_EVENTS and VENDOR_PREFIX.match(ev.name):
            yield noted(f"vendor-prefixed event {ev.name!r}", evidence=ev.raw, event=ev.name)


@check("events.payload.json", applies=on_streams, plan=expects(*OBJECT_EVENTS))
def payload_json(cx: JudgeContext) -> Iterator[Observation]:
    judged = 0
    for ev in cx.delivered(*OBJECT_EVENTS):
        if not isinstance(ev.payload, str):
            continue  # WS non-string payloads: payload.ws.string; SSE without data: data-field
        try:
            value = safejson.loads(ev.payload)
        except safejson.JSONBoundsError:
            continue  # not decoded: payload.json.depth-bounded / payload.size-bounded judge it
        except ValueError as exc:
            judged += 1
            yield violated(
                f"expected {_where(ev)} to carry a JSON object; observed text that "
                f"is not JSON ({exc})",
                evidence=ev.raw,
            )
            continue
        judged += 1
        if not isinstance(value, dict):
            yield violated(
                f"expected {_where(ev)} to carry a JSON object; observed JSON "
                f"{type(value).__name__}",
                evidence=ev.raw,
            )
    if judged:
        yield held(f"{judged} entity payloads parse as JSON objects")
    else:
        yield unexercised("no entity event with a payload observed")


def _bare_id(cx: JudgeContext, name: str) -> Iterator[Observation]:
    seen = cx.delivered(name)
    if not seen:
        yield unexercised(f"no {name} event observed")
        return
    for ev in seen:
        value = ev.payload
        if ev.transport == "ws" and not isinstance(value, str):
            yield violated(
                f"expected the {name} payload to be the id as a string; observed "
                f"JSON {type(value).__name__} {value!r}",
                evidence=ev.raw,
            )
        elif not isinstance(value, str) or not value:
            yield violated(
                f"expected the {name} payload to be the bare id; observed no data", evidence=ev.raw
            )
        elif not _BARE_ID.match(value):
            yield violated(
                f"expected the {name} payload to be the bare id (not JSON, not "
                f"quoted); observed {value[:80]!r}",
                evidence=ev.raw,
            )
        else:
            yield held(f"{name} payloads are bare ids")


@check("events.delete.bare-id", applies=on_streams, plan=expects("delete"))
def delete_bare_id(cx: JudgeContext) -> Iterator[Observation]:
    yield from _bare_id(cx, "delete")


@check(
    "events.announcement-delete.bare-id", applies=on_streams, plan=expects("announcement.delete")
)
def announcement_delete_bare_id(cx: JudgeContext) -> Iterator[Observation]:
    yield from _bare_id(cx, "announcement.delete")


@check(
    "events.notifications-merged.bare-value",
    applies=on_streams,
    plan=expects("notifications_merged"),
)
def notifications_merged(cx: JudgeContext) -> Iterator[Observation]:
    seen = cx.delivered("notifications_merged")
    if not seen:
        yield unexercised("no notifications_merged event observed")
        return
    for ev in seen:
        value = ev.payload
        if isinstance(value, str) and value and not value.lstrip().startswith(("{", "[")):
            yield held(f"notifications_merged payload {value[:20]!r}")
        else:
            yield violated(
                f"expected a bare scalar payload (Mastodon: '1'); observed {value!r}",
                evidence=ev.raw,
            )


@check("events.filters-changed.no-payload", applies=on_streams, plan=expects("filters_changed"))
def filters_changed(cx: JudgeContext) -> Iterator[Observation]:
    seen = cx.delivered("filters_changed")
    if not seen:
        yield unexercised("no filters_changed event observed (Mastodon >=4.3 sends none)")
        return
    for ev in seen:
        if ev.transport == "ws":
            if ev.present:
                yield violated(
                    f"expected no payload key on filters_changed; observed payload {ev.payload!r}",
                    evidence=ev.raw,
                )
            else:
                yield held("filters_changed frame without payload")
        elif ev.payload in (None, "", "undefined"):
            yield held(f"filters_changed with data {ev.payload!r}")
        else:
            yield violated(
                f"expected filters_changed without data (or 'undefined'); observed "
                f"data {ev.payload[:80]!r}",
                evidence=ev.raw,
            )


#: Notification types Mastodon documents (entities/Notification, 4.8).
KNOWN_NOTIFICATION_TYPES = frozenset(
    {
        "mention",
        "status",
        "reblog",
        "follow",
        "follow_request",
        "favourite",
        "poll",
        "update",
        "admin.sign_up",
        "admin.report",
        "severed_relationships",
        "moderation_warning",
        "annual_report",
        "quote",
        "quoted_update",
        "added_to_collection",
        "collection_update",
    }
)


@check(
    "events.notification.known-type",
    applies=all_of(is_transport("sse", "ws"), has_purpose("stream")),
    plan=never,
)
def notification_known_type(cx: JudgeContext) -> Iterator[Observation]:
    for ev in cx.delivered("notification"):
        payload = ev.payload
        if isinstance(payload, str):
            try:
                payload = safejson.loads(payload)
            except ValueError:
                continue
        kind = payload.get("type") if isinstance(payload, dict) else None
        if isinstance(kind, str) and kind not in KNOWN_NOTIFICATION_TYPES:
            yield noted(
                f"notification type {kind!r} is not documented (clients ignore it)",
                evidence=ev.raw,
            )
