"""Cases derived from the step table: the delivery matrix, multiplexing, and the events each
connection is expected to carry (which drive the judges' per-event payload cases)."""

from __future__ import annotations

from conformance.config import Settings
from conformance.matrix.cases import PlannedCase
from conformance.matrix.keys import (
    HASHTAG_CASE_KEYS,
    MUX_SUBSCRIPTIONS,
    MUX_UNSUBSCRIBED,
    OTHER_TAG_KEY,
)
from conformance.matrix.steps import EXTRA_ARRIVALS, ONCE, PUB_NEEDS, steps_for
from conformance.matrix.streams import PUBLIC_STREAMS, STREAM_NAMES
from conformance.session.plan.connections import Connection
from conformance.stimulus import base as sc

#: Events the plan causes but no conformant server delivers (Mastodon >= 4.3 drops
#: ``filters_changed``): judged by the delivery judge only, never expected of a transcript.
NEVER_EXPECTED = frozenset({"filters_changed"})


def expected_events(conn: Connection, settings: Settings) -> list[str]:
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
    if not streams or settings.read_only:
        return []
    events = {s.event for s in steps_for(settings) if s.event and streams & set(s.arrive)}
    return sorted(events - NEVER_EXPECTED)


def delivery_cases(settings: Settings | None = None) -> list[PlannedCase]:
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
                PUB_NEEDS,
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
            PUB_NEEDS,
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
            PUB_NEEDS,
        )
    )
    if settings is not None and settings.read_only:
        add(
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
