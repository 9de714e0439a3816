"""Deliberate rule-breaking: the reference server turned into a mutant server on request.

A check that cannot fail is worthless, so every check must be seen failing against a live server
that breaks its rule (Autobahn's approach). ``serve --fault NAME`` (repeatable) switches on one
named deviation each; the hooks that implement them are one-liners marked ``# FAULT`` at the exact
place where the reference implements the rule. Without ``--fault`` nothing here is active and the
server is the faithful Mastodon miniature.

The active set is process-wide (installed by ``start_server``): one reference process serves one
mutant. Naming an unknown fault in a hook is a bug, so ``active`` refuses it loudly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

#: Every fault the server knows, with the rule it breaks.
FAULTS: dict[str, str] = {
    # SSE wire format (streaming/sse.py)
    "sse-crlf": "SSE lines end with CRLF instead of LF",
    "sse-no-blank-line": "SSE events end with a single LF (no blank line terminates them)",
    "sse-no-heartbeat": "no :thump heartbeat comments on idle SSE streams",
    "sse-content-type-plain": "SSE responses are served as text/plain",
    "sse-no-cache-control": "SSE responses carry no Cache-Control header",
    "sse-buffered": "SSE bytes are held back until the first event is written",
    "sse-no-event-field": "SSE events have no event: line (data only)",
    "sse-unknown-field": "SSE events carry an extra 'x-msc: 1' line (an unknown field)",
    "sse-invalid-utf8": "SSE event data ends with a byte that is not UTF-8",
    # SSE/HTTP answers (streaming/routes.py, responses.py)
    "sse-accept-missing-token": "an SSE request without a token is streamed (anonymous viewer)",
    "sse-accept-unknown-channel": "an unknown SSE stream path streams public instead of a 400",
    "health-body": "the health endpoint answers 'healthy' instead of 'OK'",
    "error-body-plain": "SSE refusals are served as text/plain",
    # event payloads (web/fanout.py)
    "sse-delete-json-object": 'delete carries {"id": ...} instead of the bare status id',
    "filters-changed-with-payload": "filters_changed carries a payload",
    "status-missing-account": "streamed status payloads lack their account",
    # WebSocket (streaming/websocket.py)
    "ws-no-subprotocol-echo": "the 101 does not echo the offered Sec-WebSocket-Protocol",
    "ws-unoffered-subprotocol": "the 101 names a subprotocol the client did not offer",
    "ws-payload-object": "WebSocket payloads are JSON objects instead of JSON strings",
    "ws-stream-string": "the WebSocket stream field is a 'name:param' string, not an array",
    "ws-binary-frames": "event frames are sent as binary frames",
    "ws-no-pong": "client pings are never answered",
    "ws-close-on-bad-subscribe": "a bad subscribe closes the socket after the error frame",
    "ws-no-error-frame": "a bad subscribe is answered with silence",
    "ws-accept-invalid-token": "an upgrade without a valid token is accepted (101, then closed)",
    "unsubscribe-ignored": "unsubscribe messages are ignored",
    "duplicate-delivery": "every WebSocket event frame is sent twice",
    # fan-out and filtering (web/fanout.py, streaming/filtering.py)
    "drop-hashtag-local": "statuses are never published on hashtag:local",
    "leak-unlisted": "unlisted statuses are fanned out to the public and hashtag streams",
    "leak-direct": "direct statuses are fanned out to the public and hashtag streams",
    "no-delete-on-hashtag": "deletions are not published on hashtag streams",
    "ignore-mutes": "public/hashtag streams do not drop statuses by muted accounts",
    "no-kill-on-revoke": "revoking a token does not end the streams opened with it",
}

_active: frozenset[str] = frozenset()


def validate(names: Iterable[str]) -> frozenset[str]:
    """The names as a frozenset; ValueError naming any unknown fault."""
    chosen = frozenset(names)
    unknown = sorted(chosen - FAULTS.keys())
    if unknown:
        raise ValueError(f"unknown fault(s): {', '.join(unknown)}")
    return chosen


def install(names: Iterable[str]) -> None:
    """Make ``names`` the active faults of this process (empty: the faithful server)."""
    global _active
    _active = validate(names)


def active(name: str) -> bool:
    if name not in FAULTS:
        raise KeyError(f"hook names an unknown fault: {name}")
    return name in _active


def current() -> frozenset[str]:
    return _active


def as_object(payload: Any) -> Any:
    """``ws-payload-object``: the JSON text a WebSocket payload string holds, decoded."""
    if not isinstance(payload, str):
        return payload
    try:
        return json.loads(payload)
    except ValueError:
        return payload


class AnonymousToken:
    """``sse-accept-missing-token``: who an unauthenticated request is treated as."""

    token_id = "0"
    account_id = "0"
    scopes = frozenset({"read"})
    chosen_languages: list[str] | None = None
    permissions = 0
