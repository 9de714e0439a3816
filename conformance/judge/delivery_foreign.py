"""Every event judged against the stream that delivered it, whoever caused it.

The delivery judge (``judge.delivery``) follows the suite's own stimuli by id; it cannot see a
status tagged only ``#other`` on a hashtag stream, a remote author's status on ``public:local``
or a text-only status on a ``:media`` stream when the suite never posted one. These checks read
every delivered event instead. An event the run did not cause (its payload does not carry the
run's tag, ``context["run_tag"]``) is judged all the same and marked "not ours" in the message.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from conformance import safejson
from conformance.judge.context import Delivered, JudgeContext, request_target, stream_of
from conformance.judge.delivery_cause import KNOWN_EVENTS
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

STATUS_EVENTS = frozenset({"update", "status.update"})
PUBLIC_EVENTS = frozenset({"update", "status.update", "delete", "filters_changed"})
NOT_ON_DIRECT = frozenset(
    {"update", "notification", "notifications_merged", "announcement", "announcement.reaction"}
    | {"announcement.delete"}
)
NOT_ON_NOTIFICATION = frozenset(
    {"update", "delete", "conversation", "announcement", "announcement.reaction"}
    | {"announcement.delete"}
)

on_streams = all_of(is_transport("sse", "ws"), has_purpose("stream"))

Rule = Callable[[str, Any, Delivered, str | None], str | None]


def _stream_and_param(cx: JudgeContext, d: Delivered) -> tuple[str | None, Any]:
    """The stream an event belongs to (a WS message names it) and its tag/list param."""
    if isinstance(d.stream, list) and d.stream and isinstance(d.stream[0], str):
        return d.stream[0], d.stream[1] if len(d.stream) > 1 else None
    _, query = request_target(cx.meta)
    return cx.stream, (query.get("tag") or [None])[0]


def _payload(d: Delivered) -> Any:
    if isinstance(d.payload, str):
        try:
            return safejson.loads(d.payload)
        except ValueError:
            return None
    return d.payload


def _ours(cx: JudgeContext, payload: Any) -> str:
    tag = cx.context.get("run_tag")
    if not isinstance(tag, str) or not tag:
        return ""
    text = json.dumps(payload, ensure_ascii=False).lower()
    return " (ours)" if tag.lower() in text else " (not ours: no stimulus of this run caused it)"


def _describe(name: str, status: dict[str, Any]) -> str:
    account = status.get("account") if isinstance(status.get("account"), dict) else {}
    return f"{name} of status {status.get('id')!r} by {account.get('acct')!r}"


def _channel_matches(stream: str, param: Any, channel: str) -> bool:
    """Whether Redis ``channel`` is the one Mastodon's streaming server reads for ``stream``."""
    if stream == "direct":
        return channel.startswith("timeline:direct:")
    if stream == "user:notification":
        return channel.endswith(":notifications")
    if stream.startswith("hashtag"):
        tag = normalise_tag(str(param or ""))
        local = ":local" if stream == "hashtag:local" else ""
        return channel == f"timeline:hashtag:{tag}{local}"
    return channel == "timeline:" + stream


def _injected(cx: JudgeContext, stream: str, param: Any, d: Delivered) -> str | None:
    """The channel a recording published this event straight onto (a capture's harness writes
    Redis messages by hand): the streaming server only relayed it, so the stream filter is the
    publisher's, not the server's, and the event is not judged here."""
    for record in cx.transcript.of_kind("stimulus"):
        detail = record.fields.get("detail")
        if record.fields.get("action") != "redis-publish" or not isinstance(detail, dict):
            continue
        channel = str(detail.get("channel") or "")
        if not _channel_matches(stream, param, channel):
            continue
        try:
            message = safejson.loads(str(detail.get("message") or ""))
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("event") == d.name:
            return channel
    return None


def _judge(
    cx: JudgeContext, applies: Callable[[str], bool], rule: Rule, what: str
) -> Iterator[Observation]:
    judged = 0
    for d in cx.delivered_events:
        stream, param = _stream_and_param(cx, d)
        if stream is None or not applies(stream) or d.name not in KNOWN_EVENTS:
            continue
        if _injected(cx, stream, param, d) is not None:
            continue
        payload = _payload(d)
        problem = rule(d.name, payload, d, param)
        judged += 1
        if problem is not None:
            yield violated(
                f"expected {what} on {stream}; observed {problem}{_ours(cx, payload)}",
                evidence=d.raw,
            )
    if judged:
        yield held(f"{judged} event(s) on {cx.stream or 'the subscriptions'}: {what}")
    else:
        yield unexercised(f"no event arrived to judge ({what})")


def _status(name: str, payload: Any) -> dict[str, Any] | None:
    return payload if name in STATUS_EVENTS and isinstance(payload, dict) else None


def _tags(status: dict[str, Any]) -> list[str]:
    tags = status.get("tags")
    if not isinstance(tags, list):
        return []
    return [str(t.get("name")) for t in tags if isinstance(t, dict) and t.get("name")]


def _acct(status: dict[str, Any]) -> str:
    account = status.get("account")
    return str(account.get("acct") or "") if isinstance(account, dict) else ""


def normalise_tag(tag: str) -> str:
    """Mastodon's HashtagNormalizer, near enough: no leading '#', NFKC, accents folded, case
    folded ('#Café' streams statuses tagged 'cafe')."""
    text = unicodedata.normalize("NFKD", tag.strip().lstrip("#"))
    folded = "".join(c for c in text if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", folded).casefold()


def _hashtag(name: str, payload: Any, _d: Delivered, param: Any) -> str | None:
    status = _status(name, payload)
    if status is None or not isinstance(param, str) or not param:
        return None
    tags = _tags(status)
    if normalise_tag(param) in (normalise_tag(t) for t in tags):
        return None
    return f"{_describe(name, status)} tagged {tags or 'with nothing'}, not #{param}"


def _local(name: str, payload: Any, _d: Delivered, _param: Any) -> str | None:
    status = _status(name, payload)
    if status is None or "@" not in _acct(status):
        return None
    return f"{_describe(name, status)}: a remote author"


def _remote(name: str, payload: Any, _d: Delivered, _param: Any) -> str | None:
    status = _status(name, payload)
    if status is None or "@" in _acct(status) or not _acct(status):
        return None
    return f"{_describe(name, status)}: a local author"


def _media(name: str, payload: Any, _d: Delivered, _param: Any) -> str | None:
    status = _status(name, payload)
    if status is None or status.get("media_attachments"):
        return None
    return f"{_describe(name, status)} without media attachments"


def _public(name: str, payload: Any, _d: Delivered, _param: Any) -> str | None:
    if name not in PUBLIC_EVENTS:
        return f"a {name} event (public streams carry statuses and deletes only)"
    status = _status(name, payload)
    if status is None or status.get("visibility") in (None, "public"):
        return None
    return f"{_describe(name, status)} with visibility {status.get('visibility')!r}"


def _forbidden(names: frozenset[str], stream: str) -> Rule:
    def rule(name: str, _payload: Any, _d: Delivered, _param: Any) -> str | None:
        return f"a {name} event, which {stream} never carries" if name in names else None

    return rule


def _kind(test: Callable[[str], bool]) -> Callable[[Meta], bool]:
    """Planned on a connection whose (single) stream passes ``test`` (not on a bad-subscribe
    probe, which subscribes to nothing valid); a multiplexed socket is judged per message."""
    return lambda meta: (
        not meta.context.get("expect_error") and bool((name := stream_of(meta)) and test(name))
    )


def _register(requirement: str, test: Callable[[str], bool], rule: Rule, what: str) -> None:
    def judge(cx: JudgeContext) -> Iterator[Observation]:
        yield from _judge(cx, test, rule, what)

    judge.__name__ = "filter_" + requirement.rsplit(".", 1)[-1].replace("-", "_")
    check(requirement, applies=on_streams, plan=all_of(on_streams, _kind(test)))(judge)


def _is_hashtag(name: str) -> bool:
    return name in ("hashtag", "hashtag:local")


def _is_local(name: str) -> bool:
    return name in ("public:local", "public:local:media", "hashtag:local")


def _is_public(name: str) -> bool:
    return name.startswith(("public", "hashtag"))


_register("stream.filter.hashtag-tag", _is_hashtag, _hashtag, "only statuses carrying the tag")
_register("stream.filter.local-only", _is_local, _local, "only local authors")
_register(
    "stream.filter.remote-only",
    lambda n: n in ("public:remote", "public:remote:media"),
    _remote,
    "only remote authors",
)
_register(
    "stream.filter.media-only", lambda n: n.endswith(":media"), _media, "only statuses with media"
)
_register("stream.filter.public-only", _is_public, _public, "only public statuses")
_register(
    "stream.filter.direct-only",
    lambda n: n == "direct",
    _forbidden(NOT_ON_DIRECT, "direct"),
    "only conversations",
)
_register(
    "stream.filter.notification-only",
    lambda n: n == "user:notification",
    _forbidden(NOT_ON_NOTIFICATION, "user:notification"),
    "only notifications",
)
