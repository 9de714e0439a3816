"""Refused SSE/HTTP requests (``purpose == "error"``): refused at all, then Mastodon's details.

Which refusal a case is comes from ``context["expect_error"]`` (the Mastodon text the request
must provoke), set by whoever built the request; never from the response.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from conformance.judge.context import JudgeContext, is_public_stream, stream_of
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

http_error = all_of(is_transport("sse", "http"), has_purpose("error"))

#: Mastodon's refusal texts (mastodon-streaming.md §4) -> the requirement naming that refusal.
KIND_BY_MESSAGE = {
    "Missing access token": "errors.sse.missing-token",
    "Invalid access token": "errors.sse.invalid-token",
    "Unknown channel requested": "errors.sse.unknown-channel",
    "Missing tag name parameter": "errors.sse.missing-tag",
    "Missing list name parameter": "errors.sse.missing-list",
    "Not authorized to stream this list": "errors.sse.list-not-authorized",
    "Access token does not have the required scopes": "errors.sse.insufficient-scope",
}


def anonymous_public(meta: Meta) -> bool:
    """A token-less request for a public stream: judged by ``auth.anonymous.public-streams``."""
    return meta.context.get("expect_error") == "Missing access token" and is_public_stream(
        stream_of(meta)
    )


def _kind(meta: Meta) -> str:
    if anonymous_public(meta):
        return "auth.anonymous.public-streams"
    return KIND_BY_MESSAGE.get(str(meta.context.get("expect_error")), "errors.http.refused")


def _is_kind(requirement: str):  # type: ignore[no-untyped-def]
    return lambda meta: _kind(meta) == requirement


#: ``end`` details of a recorder that never reached the server (nothing to judge).
CONNECT_FAILURES = ("connect failed", "connect timeout")


def dropped_refusal(cx: JudgeContext) -> Observation | None:
    """No response head where a refusal is due: a fail with the evidence when the server reached
    us and then dropped or reset the connection (clients cannot tell a dropped refusal from a
    network fault, so they retry forever); not_exercised only when nothing connected."""
    if cx.head is not None:
        return None
    end = cx.end
    detail = str(end.fields.get("detail", "")) if end is not None else ""
    if not cx.recorded or end is None or cx.end_how == "deadline":
        return unexercised(f"no response recorded (end {cx.end_how})")
    if cx.end_how == "error" and detail.startswith(CONNECT_FAILURES):
        return unexercised(f"no response recorded ({detail[:120]})")
    return violated(
        f"expected a refusal (a 4xx status with a JSON error); observed the connection "
        f"dropped without a response (end {cx.end_how} at t={cx.last_t:.1f} s)",
        evidence=detail or None,
    )


#: Refusals whose status clients act on: a 401 makes a client re-authenticate (Mastodon.py's
#: MastodonUnauthorizedError, masto.js's MastoHttpUnauthorizedError); any other status for a
#: missing or invalid token reads as a transient error and the client retries forever.
EXACT_401 = frozenset({"errors.sse.missing-token", "errors.sse.invalid-token"})
_OTHER_4XX = frozenset(range(400, 500)) - {401}


def _refused_4xx(cx: JudgeContext) -> Iterator[Observation]:
    if (dropped := dropped_refusal(cx)) is not None:
        yield dropped
    elif _kind(cx.meta) in EXACT_401 and cx.status in _OTHER_4XX:
        yield violated(
            f"expected 401 for a {cx.context.get('expect_error')!r} refusal (clients "
            f"re-authenticate only on 401); observed {cx.status}",
            evidence=cx.body[:300],
        )
    elif cx.status is not None and 400 <= cx.status < 500:
        yield held(f"refused with {cx.status}")
    else:
        expected = cx.context.get("expect_status")
        yield violated(
            f"expected a 4xx refusal{f' ({expected})' if expected else ''}; "
            f"observed {cx.status} {cx.header('Content-Type') or ''}".rstrip(),
            evidence=cx.body[:300],
        )


def _register_kind(requirement: str) -> None:
    def refusal(cx: JudgeContext) -> Iterator[Observation]:
        yield from _refused_4xx(cx)

    refusal.__name__ = "refusal_" + requirement.rsplit(".", 1)[-1].replace("-", "_")
    check(requirement, applies=all_of(http_error, _is_kind(requirement)))(refusal)


for _requirement in sorted(set(KIND_BY_MESSAGE.values())):
    _register_kind(_requirement)


@check("errors.http.refused", applies=all_of(http_error, _is_kind("errors.http.refused")))
def refused_any(cx: JudgeContext) -> Iterator[Observation]:
    if (dropped := dropped_refusal(cx)) is not None:
        yield dropped
    elif cx.status is not None and cx.status >= 400:
        yield held(f"refused with {cx.status}")
    else:
        yield violated(
            f"expected a refusal (status >= 400); observed {cx.status}", evidence=cx.body[:300]
        )


def _need_refusal(cx: JudgeContext) -> Observation | None:
    if cx.head is None or cx.status is None or cx.status < 400:
        return unexercised(f"not refused (status {cx.status})")
    return None


@check(
    "errors.http.status-exact",
    applies=all_of(http_error, lambda m: isinstance(m.context.get("expect_status"), int)),
)
def status_exact(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_refusal(cx)) is not None:
        yield skip
        return
    expected = cx.context["expect_status"]
    if cx.status == expected:
        yield held(f"status {expected}")
    else:
        yield violated(f"expected status {expected}; observed {cx.status}", evidence=cx.body[:300])


def _json_error(cx: JudgeContext) -> tuple[object, str | None]:
    try:
        value = json.loads(cx.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"a body that is not JSON ({exc})"
    if not isinstance(value, dict) or not isinstance(value.get("error"), str):
        return value, f"JSON without a string 'error': {cx.body[:100]!r}"
    return value, None


def _is_get(cx: JudgeContext) -> bool:
    return str(cx.meta.request.get("method") or "GET").upper() != "HEAD"


@check("errors.http.json-body", applies=http_error)
def json_body(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_refusal(cx)) is not None:
        yield skip
        return
    if not _is_get(cx):
        yield unexercised("HEAD request: no body")
        return
    _, problem = _json_error(cx)
    if problem is None:
        yield held("JSON body with a string 'error'")
    else:
        yield violated(
            f'expected a JSON body {{"error": str}}; observed {problem}', evidence=cx.body[:300]
        )


@check("errors.http.content-type-json", applies=http_error)
def content_type_json(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_refusal(cx)) is not None:
        yield skip
        return
    ctype = cx.header("Content-Type")
    if (ctype or "").split(";")[0].strip().lower() == "application/json":
        yield held(f"Content-Type {ctype}")
    else:
        yield violated(f"expected Content-Type application/json; observed {ctype!r}")


@check(
    "errors.http.message-exact",
    applies=all_of(http_error, lambda m: isinstance(m.context.get("expect_error"), str)),
)
def message_exact(cx: JudgeContext) -> Iterator[Observation]:
    if (skip := _need_refusal(cx)) is not None:
        yield skip
        return
    expected = cx.context["expect_error"]
    value, problem = _json_error(cx)
    if problem is not None:
        yield violated(f"expected error {expected!r}; observed {problem}", evidence=cx.body[:300])
    elif isinstance(value, dict) and value.get("error") == expected:
        yield held(f"error {expected!r}")
    else:
        observed = value.get("error") if isinstance(value, dict) else value
        yield violated(
            f"expected error {expected!r}; observed {observed!r}", evidence=cx.body[:300]
        )
