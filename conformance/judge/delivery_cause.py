"""Why an expected event is missing: what did arrive for the object's id, and whose check owns it.

"Expected update ...; it never arrived" is a consequence. When something carrying the object's
id did arrive (under another event name, with a payload that is not JSON or does not have the
expected shape) or the stream was cut before it could, the delivery message names that cause and
``Result.cause`` names the requirement whose check judges it, so a report leads with the cause.
"Never arrived" is said only when nothing carrying the id arrived on an intact stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from conformance import safejson
from conformance.judge.delivery_match import BARE_STRING_EVENTS
from conformance.matrix.delivery_log import Seen
from conformance.stimulus.base import Produced
from conformance.transcript.model import Transcript

#: Mastodon's event names (mastodon-streaming.md §5).
KNOWN_EVENTS = frozenset(
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
        "encrypted_message",
    }
)
ID_ROLES = ("status", "announcement", "account")
SERVER_ENDS = frozenset({"eof", "reset", "incomplete"})


@dataclass(frozen=True, slots=True)
class Cause:
    """What arrived instead (``message``) and the requirement whose check owns it."""

    message: str
    requirement: str | None
    raw: Any = None


def _ids(produced: Produced) -> list[str]:
    """The id of the object the step is about: its status, else announcement, else account
    (an account id alone appears in every status that account wrote, so it comes last)."""
    return next(([produced.ids[r]] for r in ID_ROLES if produced.ids.get(r)), [])


def _walk_ids(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "id" and isinstance(item, str | int):
                yield str(item)
            else:
                yield from _walk_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_ids(item)


def _raw_text(seen: Seen) -> str:
    raw = seen.raw
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="replace")
    return str(raw)


def carries(seen: Seen, ids: list[str]) -> bool:
    """Whether an event carries one of ``ids``: as a payload object's (nested) id, as a bare-id
    payload, or, for a payload that is not JSON, as a whole word of its text."""
    payload = seen.payload
    if isinstance(payload, dict | list):
        return any(i in ids for i in _walk_ids(payload))
    if isinstance(payload, str | int) and str(payload).strip() in ids:
        return True
    text = _raw_text(seen)
    return any(len(i) >= 4 and re.search(rf"(?<!\d){re.escape(i)}(?!\d)", text) for i in ids)


def _not_json(seen: Seen) -> bool:
    if seen.event in BARE_STRING_EVENTS:
        return False
    if isinstance(seen.payload, str):
        try:
            safejson.loads(seen.payload)
        except ValueError:
            return True
    return False


def cause_of_absence(
    expected_event: str | None,
    produced: Produced,
    seen: list[Seen],
    transcript: Transcript | None,
) -> Cause | None:
    """The cause behind a missing event, or None when nothing explains it ("never arrived")."""
    ids = _ids(produced)
    carriers = [s for s in seen if carries(s, ids)] if ids else []
    for s in carriers:
        if s.event not in KNOWN_EVENTS:
            return Cause(
                f"it arrived as event {s.event!r}, a name clients ignore",
                "events.name.known",
                s.raw,
            )
    for s in carriers:
        if _not_json(s):
            return Cause(
                f"it arrived as {s.event!r} with a payload that is not JSON",
                "events.payload.json",
                s.raw,
            )
    for s in carriers:
        if s.event == expected_event:
            return Cause(
                f"an {s.event!r} carrying its id arrived with a payload of the wrong shape",
                "payload.schema.valid",
                s.raw,
            )
    if carriers:
        names = sorted({s.event for s in carriers})
        return Cause(f"only {names} carrying its id arrived", None, carriers[0].raw)
    return _cut(transcript)


def _cut(transcript: Transcript | None) -> Cause | None:
    if transcript is None or transcript.end is None:
        return None
    how = transcript.end.fields.get("how")
    if how not in SERVER_ENDS:
        return None
    t = transcript.end.t
    if transcript.meta.transport == "ws":
        return Cause(f"the server closed the socket at t={t:.1f} s ({how})", None)
    requirement = "http.sse.stays-open" if how == "eof" else "http.sse.not-cut"
    return Cause(f"the stream was cut at t={t:.1f} s ({how})", requirement)
