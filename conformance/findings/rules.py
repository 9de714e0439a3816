"""Which broken requirement explains which other failures on the same connection (data).

A failure low in the stack makes the checks above it fail too: a WebSocket payload that is not a
JSON string fails the schema, the ``delete`` id check and every "it never arrived" delivery check
on that socket. Those are consequences, not separate faults. ``RULES`` lists, lowest layer
first, a root requirement and the requirements whose failures it explains **on the same
transcript**; the grouping (``conformance.findings.group``) applies the first rule that fits. A
rule names only consequences its root really causes: CRLF line endings, for instance, explain
nothing (the SSE parser reads CRLF), so a leak on a CRLF stream stays a finding of its own.

``@arrivals`` stands for the positive delivery requirements (an event must arrive): a stream
that was cut or whose frames cannot be read loses events, but cannot make an event arrive
where it must not, so the ``*.excluded`` checks are never explained by a root below them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache

__all__ = ["RULES", "Rule", "arrival_requirements", "rule_for_root"]

ARRIVALS = "@arrivals"
_CONTENT = (
    "payload.*",
    "events.*",
    ARRIVALS,
    "delivery.payload.matches-rest",
    "ws.message.stream-matches-subscription",
    "ws.multiplex.delivers-each",
    "ws.multiplex.unsubscribe-keeps-others",
)


@dataclass(frozen=True, slots=True)
class Rule:
    """``root`` failing on a transcript explains ``explains`` (globs) on that transcript."""

    root: str
    explains: tuple[str, ...]
    why: str
    timed: bool = False  # the root has a moment (the cut): "at t=..." in the explanation
    #: every ``not_exercised`` case on the transcript is explained too (nothing after a cut
    #: can be observed, so e.g. an absence check that waits for a barrier never can)
    unexercised_all: bool = False
    #: the root may stand on another transcript: a leaked stimulus of the suite's own is one
    #: event, flagged by its ``*.excluded`` check where one was planned and by the stream-filter
    #: rule on every stream it reached
    anywhere: bool = False


RULES: tuple[Rule, ...] = (
    Rule("http.sse.status-200", ("*",), "the stream was refused"),
    Rule("ws.handshake.refused-status-401", ("*",), "the upgrade was refused"),
    Rule(
        "http.sse.not-cut",
        ("sse.*", "http.sse.stays-open", *_CONTENT),
        "the stream was cut",
        timed=True,
        unexercised_all=True,
    ),
    Rule("ws.frame.text", ("ws.frame.json", "ws.message.*", *_CONTENT), "events came as binary"),
    Rule("ws.frame.json", ("ws.message.*", *_CONTENT), "a frame is not JSON"),
    Rule("ws.message.shape", _CONTENT, "messages have the wrong shape"),
    Rule("payload.ws.string", _CONTENT, "WebSocket payloads are not JSON strings"),
    Rule("sse.framing.blank-line-terminates-event", _CONTENT, "events are not terminated"),
    Rule("sse.framing.event-field", _CONTENT, "events have no event: field"),
    Rule("sse.framing.data-field", _CONTENT, "events have no data: field"),
    Rule("sse.framing.utf8", _CONTENT, "event data is not UTF-8"),
    Rule("events.payload.json", ("payload.schema.valid", *_CONTENT[2:]), "payloads are not JSON"),
    # A stimulus of the suite's own that leaked onto a stream is the cause; the stream-filter
    # rule that judges every event on that stream flags the same leaked event again.
    Rule(
        "delivery.private-status.excluded",
        ("stream.filter.public-only", "stream.filter.direct-only"),
        "a private status leaked",
        anywhere=True,
    ),
    Rule(
        "delivery.unlisted-status.excluded",
        ("stream.filter.public-only",),
        "an unlisted status leaked",
        anywhere=True,
    ),
    Rule(
        "delivery.direct.excluded",
        ("stream.filter.public-only", "stream.filter.direct-only"),
        "a direct status leaked",
        anywhere=True,
    ),
    Rule(
        "delivery.other-tag.excluded",
        ("stream.filter.hashtag-tag",),
        "another tag leaked",
        anywhere=True,
    ),
    Rule(
        "delivery.remote-status.excluded", ("stream.filter.local-only",), "a remote status leaked"
    ),
    Rule("delivery.public-status.excluded", ("stream.filter.*",), "a public status leaked"),
    Rule("delivery.media-status.excluded", ("stream.filter.*",), "a status leaked"),
)
_BY_ROOT = {rule.root: rule for rule in RULES}


def rule_for_root(requirement: str) -> Rule | None:
    return _BY_ROOT.get(requirement)


@cache
def arrival_requirements() -> frozenset[str]:
    """Delivery requirements that say an event must arrive (from the step table), or, if the
    plan cannot be imported, every ``delivery.*`` id that does not end in ``.excluded``."""
    try:
        from conformance.matrix.steps import STEPS

        found = {s.requirement for s in STEPS if s.requirement}
        found -= {s.absent_requirement for s in STEPS if s.absent_requirement}
        found -= {"delivery.token-revoke.ends-stream"}  # a cut stream passes it anyway
        return frozenset(
            found | {"delivery.hashtag.case-insensitive", "delivery.other-tag.arrives"}
        )
    except Exception:  # pragma: no cover - the plan is part of the package
        from conformance.requirements import REGISTRY

        return frozenset(
            r for r in REGISTRY if r.startswith("delivery.") and not r.endswith(".excluded")
        )


def explains(rule: Rule, requirement: str, *, unexercised: bool = False) -> bool:
    if requirement == rule.root:
        return False
    if unexercised and rule.unexercised_all:
        return True
    for pattern in rule.explains:
        if pattern == ARRIVALS:
            if requirement in arrival_requirements():
                return True
        elif fnmatchcase(requirement, pattern):
            return True
    return False
