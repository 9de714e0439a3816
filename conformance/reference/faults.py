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

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
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
    "sse-delete-without-data": "SSE delete events have no data: line",
    "sse-cut-mid-event": "SSE streams are cut mid-event (half an event, then a TCP abort)",
    # SSE/HTTP answers (streaming/routes.py, responses.py)
    "sse-accept-missing-token": "an SSE request without a token is streamed (anonymous viewer)",
    "sse-accept-unknown-channel": "an unknown SSE stream path streams public instead of a 400",
    "health-body": "the health endpoint answers 'healthy' instead of 'OK'",
    "error-body-plain": "SSE refusals are served as text/plain",
    "health-503": "the health endpoint answers 503 Service Unavailable",
    "sse-forbidden": "every authorised SSE stream request is answered 403",
    "no-sse": "no SSE transport: every SSE stream path answers 404 (a WebSocket-only server)",
    "sse-ignore-authorization-header": "SSE ignores the Authorization header (token missing)",
    "sse-accept-invalid-token": "an SSE request with an invalid token is streamed (anonymous)",
    "scopes-not-enforced": "a token lacking the read scope may stream anything",
    "accept-missing-tag": "a hashtag stream without tag is served (tag 'untagged')",
    "accept-missing-list": "a list stream without list is served (an empty list)",
    "accept-foreign-list": "a list owned by someone else (or by no one) is served",
    "wrong-error-status": "refusals use other 4xx codes: 403 for tokens, 404 unknown, 422 params",
    "anonymous-public": "public and hashtag streams are served without a token (as Pleroma)",
    "refuse-by-drop": "a token refusal (401) is a TCP reset instead of an answer",
    # event payloads (web/fanout.py)
    "sse-delete-json-object": 'delete carries {"id": ...} instead of the bare status id',
    "filters-changed-with-payload": "filters_changed carries a payload",
    "status-missing-account": "streamed status payloads lack their account",
    "payload-not-json": "conversation payloads are Python reprs, not JSON",
    "announcement-delete-object": 'announcement.delete carries {"id": ...}, not the bare id',
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
    "ws-ignore-query-token": "a WebSocket upgrade ignores ?access_token= (token missing)",
    "ws-ignore-subprotocol-token": "a WebSocket upgrade ignores a Sec-WebSocket-Protocol token",
    "ws-ignore-authorization-header": "a WebSocket upgrade ignores the Authorization header",
    "ws-non-json-frame": "each accepted subscribe is acknowledged by the text frame 'subscribed'",
    "ws-stream-normalized-tag": "the stream array names the normalised tag, not the one sent",
    "ws-one-subscription": "a socket silently ignores every subscribe after its first",
    "unsubscribe-drops-all": "an unsubscribe drops every subscription of the socket",
    # fan-out and filtering (web/fanout.py, streaming/filtering.py)
    "drop-hashtag-local": "statuses are never published on hashtag:local",
    "leak-unlisted": "unlisted statuses are fanned out to the public and hashtag streams",
    "leak-direct": "direct statuses are fanned out to the public and hashtag streams",
    "no-delete-on-hashtag": "deletions are not published on hashtag streams",
    "ignore-mutes": "public/hashtag streams do not drop statuses by muted accounts",
    "leak-private": "followers-only statuses are fanned out to the public and hashtag streams",
    "local-as-remote": "local statuses are published on the remote public timelines",
    "remote-as-local": "remote statuses are published on the local public timelines",
    "drop-media-timelines": "statuses with media are never published on the :media timelines",
    "drop-hashtag": "statuses are never published on (federated) hashtag streams",
    "hashtag-carries-public": "a federated hashtag stream carries the whole public timeline",
    "hashtag-case-sensitive": "stream tags are not lower-cased, so mixed-case tags get nothing",
    "followers-get-public-only": "unlisted and followers-only statuses skip followers' feeds",
    "no-list-push": "statuses are never pushed to list streams",
    "no-own-home": "an author's own status is not pushed to the author's home",
    "notifications-not-streamed": "notifications are stored but never streamed",
    "no-conversation": "direct messages are not streamed as conversation events",
    "edit-as-update": "edits are streamed as update instead of status.update",
    "renamed-update": "update events are streamed under the name status_update",
    "announcements-not-streamed": "announcements, reactions and withdrawals are never streamed",
    "ignore-blocks": "public/hashtag streams do not drop statuses by blocked accounts",
    "no-kill-on-revoke": "revoking a token does not end the streams opened with it",
    "late-conversation": "conversation events reach the stream 2.5 s after publication",
    # foreign traffic: a status nobody of the run posted, on a stream that must not carry it
    # (streaming/listeners.py; each is sent once per stream, before the first real status)
    "foreign-other-tag": "hashtag streams carry a status tagged only #other",
    "foreign-remote-on-local": "local timelines carry a remote author's status",
    "foreign-local-on-remote": "public:remote carries a local author's status",
    "foreign-text-on-media": ":media timelines carry a text-only status",
    "foreign-unlisted-on-public": "public and hashtag streams carry an unlisted status",
    "foreign-update-on-direct": "the direct stream carries a plain update",
    "foreign-update-on-notification": "user:notification carries a plain update",
}

#: Benign variants: legal behaviour Mastodon happens not to use (``serve --variant NAME``). A
#: conformant client must not mind them, so a run against each must give zero fail and zero warn.
VARIANTS: dict[str, str] = {
    "ws-fragment-64": "every WebSocket text message is sent as 64-byte frames (a text frame, "
    "then continuation frames; RFC 6455 §5.4)",
}

#: Faults under load, with parameters (``NAME:N[:X]``): they break no single rule of the API,
#: only delivery once the server is busy, and the load report (``mastodon-streaming-conformance
#: load``) must show them as lost or late deliveries from the ramp step where they begin.
#: "Subscribers" are open stream subscriptions (one per SSE stream or WebSocket subscription).
LOAD_FAULTS: dict[str, str] = {
    "drop-above": "drop-above:N[:K]: above N subscribers, every K-th delivery (default 10) is lost",
    "delay-above": "delay-above:N:MS: above N subscribers, every delivery is MS milliseconds late",
}


@dataclass(frozen=True)
class LoadFault:
    name: str
    above: int
    value: int


#: Behaviours some real servers have that break no rule, switched on like faults (``--fault``)
#: so the suite can be tested against them; they need no failing requirement.
KNOBS: dict[str, str] = {
    "dedupe-notifications": "an identical undismissed notification (type, sender, recipient, "
    "status) is never created again, as some real servers do",
}

_active: frozenset[str] = frozenset()
_load: tuple[LoadFault, ...] = ()
_subscribers = 0
_deliveries = 0
_variants: frozenset[str] = frozenset()


def parse_load_fault(spec: str) -> LoadFault:
    """``drop-above:N[:K]`` or ``delay-above:N:MS``; ValueError for anything else."""
    name, *params = spec.split(":")
    if name not in LOAD_FAULTS:
        raise ValueError(f"unknown fault(s): {spec}")
    try:
        numbers = [int(p) for p in params]
    except ValueError:
        raise ValueError(f"{spec}: parameters must be integers ({LOAD_FAULTS[name]})") from None
    if name == "drop-above" and len(numbers) == 1:
        numbers.append(10)
    if len(numbers) != 2 or numbers[0] < 0 or numbers[1] < 1:
        raise ValueError(f"{spec}: expected {LOAD_FAULTS[name]}")
    return LoadFault(name, numbers[0], numbers[1])


def validate(names: Iterable[str]) -> frozenset[str]:
    """The names as a frozenset; ValueError naming any unknown fault or knob, or a bad
    load-fault spec."""
    chosen = frozenset(names)
    for spec in chosen:
        if spec.split(":", 1)[0] in LOAD_FAULTS:
            parse_load_fault(spec)
    unknown = sorted(
        n for n in chosen - FAULTS.keys() - KNOBS.keys() if n.split(":", 1)[0] not in LOAD_FAULTS
    )
    if unknown:
        raise ValueError(f"unknown fault(s): {', '.join(unknown)}")
    return chosen


def install(names: Iterable[str]) -> None:
    """Make ``names`` the active faults of this process (empty: the faithful server)."""
    global _active, _load, _deliveries
    chosen = validate(names)
    _load = tuple(parse_load_fault(n) for n in sorted(chosen) if n.split(":", 1)[0] in LOAD_FAULTS)
    _active = chosen - {n for n in chosen if n.split(":", 1)[0] in LOAD_FAULTS}
    _deliveries = 0


def subscribed(delta: int) -> None:
    """One stream subscription more (+1) or less (-1): what the load faults count."""
    global _subscribers
    _subscribers = max(0, _subscribers + delta)


def under_load(output: Any) -> Any:
    """``drop-above`` / ``delay-above``: a stream listener's output as the load faults change it
    (``output`` itself when none is active)."""
    if not _load:
        return output

    def gated(event: Any, payload: Any) -> None:
        global _deliveries
        for fault in _load:
            if _subscribers <= fault.above:
                continue
            if fault.name == "drop-above":
                _deliveries += 1
                if _deliveries % fault.value == 0:
                    return
            else:
                asyncio.get_running_loop().call_later(fault.value / 1000, output, event, payload)
                return
        output(event, payload)

    return gated


#: ``late-conversation``: how long a conversation event is held back by the stream listener: past
#: the suite's delivery deadline (5 s x --timeout-multiplier) when the multiplier is below 0.5
#: (the live fault runs use 0.3: deadline 1.5 s), yet within the session's own 3 s wait there.
LATE_S = 2.5
LATE_EVENT = "conversation"


def late(output: Any) -> Any:
    """``late-conversation``: a stream listener's output with conversation events delivered
    ``LATE_S`` late (``output`` itself when the fault is off)."""
    if not active("late-conversation"):
        return output

    def delayed(event: Any, payload: Any) -> None:
        if event == LATE_EVENT:
            asyncio.get_running_loop().call_later(LATE_S, output, event, payload)
            return
        output(event, payload)

    return delayed


def load_argument(spec: str) -> str:
    """argparse type of ``--fault``: a known fault name or a valid load-fault spec."""
    validate([spec])
    return spec


def install_variants(names: Iterable[str]) -> None:
    global _variants
    chosen = frozenset(names)
    unknown = sorted(chosen - VARIANTS.keys())
    if unknown:
        raise ValueError(f"unknown variant(s): {', '.join(unknown)}")
    _variants = chosen


def variant(name: str) -> bool:
    if name not in VARIANTS:
        raise KeyError(f"hook names an unknown variant: {name}")
    return name in _variants


def fragmented_text(text: str, size: int = 64) -> bytes:
    """``ws-fragment-64``: one text message as unmasked frames of ``size`` payload bytes."""
    data = text.encode("utf-8")
    parts = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    out = bytearray()
    for index, part in enumerate(parts):
        opcode = 0x1 if index == 0 else 0x0
        fin = 0x80 if index == len(parts) - 1 else 0
        out.append(fin | opcode)
        out.append(len(part))  # always < 126
        out += part
    return bytes(out)


def active(name: str) -> bool:
    if name not in FAULTS and name not in KNOBS:
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


def ws_token_sources(
    headers: dict[str, str], query: dict[str, list[str]]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """``ws-ignore-query-token`` / ``ws-ignore-subprotocol-token``: where a WebSocket upgrade
    looks for its token, with the ignored source removed."""
    if active("ws-ignore-query-token"):
        query = {k: v for k, v in query.items() if k != "access_token"}
    if active("ws-ignore-subprotocol-token"):
        headers = {k: v for k, v in headers.items() if k != "Sec-WebSocket-Protocol"}
    if active("ws-ignore-authorization-header"):
        headers = {k: v for k, v in headers.items() if k != "Authorization"}
    return headers, query


def anonymous_public(stream: str | None, token: str | None) -> bool:
    """``anonymous-public``: a token-less request for a public or hashtag stream is served."""
    return (
        active("anonymous-public")
        and token is None
        and bool(stream)
        and str(stream).startswith(("public", "hashtag"))
    )


def drop_refusal(request: Any, status: int) -> bool:
    """``refuse-by-drop``: reset the connection instead of answering a 401."""
    if not (active("refuse-by-drop") and status == 401):
        return False
    transport = request.transport
    if transport is not None:
        transport.abort()
    return True


async def cut_mid_event(request: Any, response: Any, chunks: list[bytes]) -> Any:
    """``sse-cut-mid-event``: write half of an event, then drop the TCP connection without the
    terminating chunk (the response is returned for aiohttp, which can no longer send it)."""
    await response.write(chunks[0][: max(1, len(chunks[0]) // 2)])
    transport = request.transport
    if transport is not None:
        transport.abort()
    return response


class AnonymousToken:
    """``sse-accept-missing-token``: who an unauthenticated request is treated as."""

    token_id = "0"
    account_id = "0"
    scopes = frozenset({"read"})
    chosen_languages: list[str] | None = None
    permissions = 0


def _foreign_status(status: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A status nobody of the run posted: a copy of ``status`` under another id and text."""
    copy = {**status, "id": f"9{status.get('id', '0')}", "content": "<p>foreign traffic</p>"}
    copy.update(uri="https://foreign.example/1", url="https://foreign.example/1", tags=[])
    copy.update(changes)
    return copy


def _remote_account(status: dict[str, Any]) -> dict[str, Any]:
    account = dict(status.get("account") or {})
    account.update(
        acct="dave@foreign.example", username="dave", url="https://foreign.example/@dave"
    )
    return account


def _local_account(status: dict[str, Any]) -> dict[str, Any]:
    account = dict(status.get("account") or {})
    account.update(acct="erin", username="erin")
    return account


def _is(*names: str) -> Any:
    return lambda stream: stream in names


#: fault -> (streams it poisons, the real event that triggers it, foreign (event, payload)).
_FOREIGN: dict[str, tuple[Any, str, Any]] = {
    "foreign-other-tag": (
        _is("hashtag", "hashtag:local"),
        "update",
        lambda s: (
            "update",
            _foreign_status(s, tags=[{"name": "other", "url": "https://x/tags/other"}]),
        ),
    ),
    "foreign-remote-on-local": (
        _is("public:local", "public:local:media", "hashtag:local"),
        "update",
        lambda s: ("update", _foreign_status(s, account=_remote_account(s))),
    ),
    "foreign-local-on-remote": (
        _is("public:remote", "public:remote:media"),
        "update",
        lambda s: ("update", _foreign_status(s, account=_local_account(s))),
    ),
    "foreign-text-on-media": (
        lambda stream: stream.endswith(":media"),
        "update",
        lambda s: ("update", _foreign_status(s, media_attachments=[])),
    ),
    "foreign-unlisted-on-public": (
        lambda stream: stream.startswith(("public", "hashtag")),
        "update",
        lambda s: ("update", _foreign_status(s, visibility="unlisted")),
    ),
    "foreign-update-on-direct": (
        _is("direct"),
        "conversation",
        lambda c: ("update", _foreign_status(c.get("last_status") or {})),
    ),
    "foreign-update-on-notification": (
        _is("user:notification"),
        "notification",
        lambda n: ("update", _foreign_status(n.get("status") or n.get("account") or {})),
    ),
}


def foreign_traffic(stream: str, event: Any, payload: Any) -> list[tuple[str, Any]]:
    """``foreign-*``: the foreign events to send on ``stream`` before this real one."""
    out: list[tuple[str, Any]] = []
    if not isinstance(payload, dict):
        return out
    for name, (poisons, trigger, make) in _FOREIGN.items():
        if name in _active and event == trigger and poisons(stream):
            out.append(make(payload))
    return out


def error_status(status: int) -> int:
    """``wrong-error-status``: the 4xx a sloppy server picks instead of Mastodon's."""
    if not active("wrong-error-status"):
        return status
    return {401: 403, 400: 422}.get(status, status)
