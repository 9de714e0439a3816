"""Token sources: does each way of passing a valid token open the stream?"""

from __future__ import annotations

from collections.abc import Iterator

from conformance.judge.context import JudgeContext, auth_of
from conformance.judge.errors import anonymous_public, dropped_refusal
from conformance.judge.registry import (
    Observation,
    all_of,
    check,
    has_purpose,
    held,
    is_transport,
    unexercised,
    violated,
)
from conformance.transcript.model import Meta

opened = has_purpose("stream", "handshake")


def _via(source: str):  # type: ignore[no-untyped-def]
    return lambda meta: auth_of(meta) == source


def _accepted(cx: JudgeContext, want: int, source: str) -> Iterator[Observation]:
    if cx.head is None:
        if not cx.recorded:
            yield unexercised("nothing was recorded on this connection")
        elif cx.end_how == "error":
            yield unexercised(
                f"no response recorded (recorder error: "
                f"{cx.end.fields.get('detail', '') if cx.end else ''})"
            )
        else:
            yield violated(
                f"expected {want} with the token in the {source}; observed no "
                f"response (end {cx.end_how})"
            )
    elif cx.status == want and cx.meta.transport == "ws" and cx.ws_protocol_problems:
        yield unexercised(
            f"the upgrade was accepted but the connection broke RFC 6455 "
            f"({cx.ws_protocol_problems[0]})"
        )
    elif cx.status == want:
        yield held(f"token in the {source} accepted ({want})")
    else:
        yield violated(
            f"expected {want} with a valid token in the {source}; observed {cx.status}",
            evidence=cx.body[:300],
        )


def _register(requirement: str, transport: str, source: str, want: int) -> None:
    def accepted(cx: JudgeContext) -> Iterator[Observation]:
        yield from _accepted(cx, want, source)

    accepted.__name__ = f"{transport}_token_{source}"
    check(requirement, applies=all_of(is_transport(transport), opened, _via(source)))(accepted)


_register("auth.sse.token-header", "sse", "header", 200)
_register("auth.sse.token-query", "sse", "query", 200)
_register("auth.sse.token-subprotocol", "sse", "subprotocol", 200)
_register("auth.ws.token-header", "ws", "header", 101)
_register("auth.ws.token-query", "ws", "query", 101)
_register("auth.ws.token-subprotocol", "ws", "subprotocol", 101)


def _anonymous(meta: Meta) -> bool:
    if meta.context.get("purpose") == "error":
        return anonymous_public(meta)
    return (
        meta.context.get("purpose") == "stream"
        and auth_of(meta) == "none"
        and (anonymous_public(_as_missing(meta)))
    )


def _as_missing(meta: Meta) -> Meta:
    from dataclasses import replace

    return replace(meta, context={**meta.context, "expect_error": "Missing access token"})


@check(
    "auth.anonymous.public-streams", applies=all_of(is_transport("sse", "http", "ws"), _anonymous)
)
def anonymous(cx: JudgeContext) -> Iterator[Observation]:
    if (dropped := dropped_refusal(cx)) is not None:
        yield dropped
    elif cx.status in (200, 101):
        yield violated(
            f"expected {cx.stream} refused without a token (401 'Missing access token', as "
            f"Mastodon >=4.2); observed {cx.status}: served anonymously",
            evidence=cx.body[:300] or None,
        )
    elif cx.status is not None and 400 <= cx.status < 500:
        yield held(f"{cx.stream} refused without a token ({cx.status})")
    else:
        yield violated(
            f"expected {cx.stream} refused without a token (401); observed {cx.status}",
            evidence=cx.body[:300] or None,
        )
