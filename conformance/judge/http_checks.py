"""Health endpoint and the HTTP side of an SSE stream: status, headers, flushing, how it ended."""

from __future__ import annotations

import json
from collections.abc import Iterator

from conformance.judge.context import JudgeContext
from conformance.judge.registry import (
    Observation,
    all_of,
    check,
    has_purpose,
    held,
    is_transport,
    noted,
    unexercised,
    violated,
    with_verdict,
)
from conformance.judge.tolerances import FIRST_BYTE_TOLERANCE_S, scaled
from conformance.transcript.model import Meta, Record
from conformance.verdicts import Verdict

health = has_purpose("health")
sse_stream = all_of(is_transport("sse"), has_purpose("stream"))


def _no_head(cx: JudgeContext) -> Observation:
    if not cx.recorded:
        return unexercised("nothing was recorded on this connection")
    end = cx.end
    if end is not None and end.fields.get("how") == "error":
        return with_verdict(Verdict.ERROR, f"no response recorded: {end.fields.get('detail', '')}")
    how = end.fields.get("how") if end is not None else "no end record"
    return violated(f"expected a response; observed none (end: {how})")


def _method(cx: JudgeContext) -> str:
    return str(cx.meta.request.get("method") or "GET").upper()


@check("http.health.status-ok", applies=health)
def health_status(cx: JudgeContext) -> Iterator[Observation]:
    if cx.head is None:
        yield _no_head(cx)
    elif cx.status == 200:
        yield held("health answered 200")
    else:
        yield violated(f"expected status 200; observed {cx.status}", evidence=cx.body[:200])


@check("http.health.body-ok", applies=health)
def health_body(cx: JudgeContext) -> Iterator[Observation]:
    if cx.head is None:
        yield _no_head(cx)
        return
    if _method(cx) == "HEAD":
        yield unexercised("HEAD request: no body to judge")
        return
    if cx.body.strip() == b"OK":
        yield held("health body is OK")
    else:
        yield violated(f"expected body 'OK'; observed {cx.body[:80]!r}", evidence=cx.body)


@check("http.health.content-type-plain", applies=health)
def health_content_type(cx: JudgeContext) -> Iterator[Observation]:
    if cx.head is None:
        yield unexercised("no response")
        return
    ctype = cx.header("Content-Type")
    yield noted(f"health Content-Type: {ctype!r} (Mastodon: text/plain)")


def _canonical_auth(meta: Meta) -> bool:
    from conformance.judge.context import auth_of

    return auth_of(meta) in ("header", "none")


@check("http.sse.status-200", applies=all_of(sse_stream, _canonical_auth))
def sse_status(cx: JudgeContext) -> Iterator[Observation]:
    if cx.head is None:
        yield _no_head(cx)
    elif cx.status == 200:
        yield held("stream answered 200")
    else:
        yield violated(f"expected status 200; observed {cx.status}", evidence=cx.body[:300])


def _need_200(cx: JudgeContext) -> Observation | None:
    if cx.head is None or cx.status != 200:
        return unexercised(f"no 200 response (status {cx.status})")
    return None


@check("http.sse.content-type-event-stream", applies=sse_stream)
def sse_content_type(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_200(cx)) is not None:
        yield skip
        return
    ctype = cx.header("Content-Type")
    mime = (ctype or "").split(";")[0].strip().lower()
    if mime == "text/event-stream":
        yield held(f"Content-Type {ctype}")
    else:
        yield violated(f"expected Content-Type text/event-stream; observed {ctype!r}")


@check("http.sse.cache-control-no-store", applies=sse_stream)
def sse_cache_control(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_200(cx)) is not None:
        yield skip
        return
    value = cx.header("Cache-Control")
    directives = [d.strip().lower() for d in (value or "").split(",")]
    if "no-store" in directives:
        yield held(f"Cache-Control {value}")
    else:
        yield violated(f"expected Cache-Control containing no-store; observed {value!r}")


@check("http.sse.first-byte-prompt", applies=sse_stream)
def sse_first_byte(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_200(cx)) is not None:
        yield skip
        return
    timeout = cx.heartbeat_timeout_s
    margin = scaled(FIRST_BYTE_TOLERANCE_S, cx.timeout_multiplier)
    deadline = timeout + margin
    allowed = f"{timeout:g} s + {margin:g} s margin"
    first = next((r for r in cx.transcript.of_kind("body-chunk") if r.data), None)
    if first is not None:
        delay = first.t - cx.head_t
        if delay <= deadline:
            yield held(f"first body byte {delay:.3f} s after the head (deadline {allowed})")
        else:
            yield violated(
                f"expected a body byte within {allowed} of the head; observed "
                f"the first after {delay:.3f} s",
                evidence=first.data[:200],
            )
        return
    waited = cx.last_t - cx.head_t
    if waited >= deadline:
        yield violated(
            f"expected a body byte within {allowed} of the head; observed none in {waited:.1f} s"
        )
    else:
        yield unexercised(
            f"no body byte, but the recording lasted only {waited:.1f} s (< {allowed})"
        )


@check("http.sse.opening-comment", applies=sse_stream)
def sse_opening_comment(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_200(cx)) is not None:
        yield skip
        return
    from conformance.sse.parser import Comment, Event

    items = [i for i in cx.sse.items if isinstance(i, Comment | Event)]
    if not items:
        yield unexercised("no SSE item received")
        return
    first = items[0]
    if isinstance(first, Comment):
        yield noted(
            f"stream opens with the comment {first.raw!r}"
            + (" (as Mastodon)" if first.text == ")" else " (Mastodon: ':)')")
        )
    else:
        yield noted(f"stream opens with an event, not a comment: {first.raw[:80]!r}")


@check("http.sse.not-cut", applies=sse_stream)
def sse_not_cut(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_200(cx)) is not None:
        yield skip
        return
    how = cx.end_how
    detail = cx.end.fields.get("detail", "") if cx.end is not None else ""
    if how is None:
        yield unexercised("no end record: recording still open")
    elif how in ("incomplete", "reset"):
        yield violated(
            f"expected the stream to stay intact until we closed it; observed "
            f"end={how} at t={cx.last_t:.3f} s ({detail})",
            evidence=cx.body[-300:],
        )
    elif how == "error":
        yield with_verdict(Verdict.ERROR, f"the recorder failed: {detail}")
    else:
        yield held(f"stream ended with {how}")


#: Stimulus actions that end a stream on purpose (scenario names, and what a capture did).
CLOSING_ACTIONS = frozenset({"token.revoke", "account.disable", "account.suspend"})


def _publishes_kill(record: Record) -> bool:
    """A recorded Redis publish of ``{"event":"kill"}`` (Doorkeeper revoke, User#disable!)."""
    if record.fields.get("action") != "redis-publish":
        return False
    detail = record.fields.get("detail")
    if not isinstance(detail, dict):
        return False
    if detail.get("event") == "kill":
        return True
    try:
        message = json.loads(str(detail.get("message") or ""))
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("event") == "kill"


def revocation_happened(cx: JudgeContext) -> bool:
    """Was the stream meant to be ended by the server? Said explicitly by the recorder
    (``context["expect_close"]``) or by a recorded stimulus that ends it (a revoke, a ``kill``
    publish in a capture); never guessed from names."""
    if cx.context.get("expect_close"):
        return True
    return any(
        r.fields.get("action") in CLOSING_ACTIONS or _publishes_kill(r)
        for r in cx.transcript.of_kind("stimulus")
    )


@check("http.sse.stays-open", applies=sse_stream)
def sse_stays_open(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_200(cx)) is not None:
        yield skip
        return
    how = cx.end_how
    if how == "eof" and not revocation_happened(cx):
        yield violated(
            f"expected the stream open until we closed it; observed the server "
            f"ended it at t={cx.last_t:.3f} s",
            evidence=cx.body[-200:],
        )
    elif how == "eof":
        yield held("the server ended the stream after the token was revoked")
    elif how in ("deadline", "client-close"):
        yield held(f"stream open until {how} at t={cx.last_t:.1f} s")
    else:
        yield unexercised(f"end={how}: judged by http.sse.not-cut")
