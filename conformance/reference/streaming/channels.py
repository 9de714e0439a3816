"""Stream names and the bus channels behind them (``streaming/index.js`` ``:428-454``, ``:1073``).

Pure functions: SSE path -> stream name, (stream name, params, account) -> channel ids, and the
``stream`` array a WebSocket frame carries. The subscription key is the channel list joined by
``;``, so ``user`` and ``user:notification`` stay distinct while ``hashtag`` ``Foo``/``foo`` merge.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import faults
from .encoding import js_string, js_truthy
from .errors import (
    LIST_FORBIDDEN,
    MISSING_LIST,
    MISSING_TAG,
    UNKNOWN_STREAM,
    StreamError,
    unexpected,
)

STREAMING_PREFIX = "/api/v1/streaming"

_PATHS: dict[str, str] = {
    "/user": "user",
    "/user/notification": "user:notification",
    "/public": "public",
    "/public/local": "public:local",
    "/public/remote": "public:remote",
    "/hashtag": "hashtag",
    "/hashtag/local": "hashtag:local",
    "/list": "list",
    "/direct": "direct",
}
_MEDIA_CAPABLE = {"public", "public:local", "public:remote"}

#: ``isTruthy`` (streaming/utils.js): these strings mean false, anything else non-empty is true.
_FALSE_VALUES = frozenset({"0", "f", "F", "false", "FALSE", "off", "OFF"})

_NON_ASCII = (
    "ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćĈĉĊċČčÐðĎďĐđÈÉÊËèéêëĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħÌÍÎÏìíîïĨĩĪīĬĭĮįİıĴĵĶķĸĹĺĻļĽľĿŀŁł"
    "ÑñŃńŅņŇňŉŊŋÒÓÔÕÖØòóôõöøŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšſŢţŤťŦŧÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųŴŵÝýÿŶŷŸŹźŻżŽž"
)
_ASCII = (
    "AAAAAAaaaaaaAaAaAaCcCcCcCcCcDdDdDdEEEEeeeeEeEeEeEeEeGgGgGgGgHhHhIIIIiiiiIiIiIiIiIiJjKkkLlLlLlLlLl"
    "NnNnNnNnnNnOOOOOOooooooOoOoOoRrRrRrSsSsSsSssTtTtTtUUUUuuuuUuUuUuUuUuUuWwYyyYyYZzZzZz"
)
_FOLD = str.maketrans(_NON_ASCII, _ASCII)


def is_truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value != "" and value not in _FALSE_VALUES
    return js_truthy(value)


def normalize_hashtag(tag: str) -> str:
    """``normalizeHashtag``: NFKC, lower-case, fold Latin diacritics, keep letters/digits/_·ZWNJ."""
    folded = unicodedata.normalize("NFKC", tag)
    if not faults.active("hashtag-case-sensitive"):  # FAULT
        folded = folded.lower()
    folded = folded.translate(_FOLD)
    return "".join(ch for ch in folded if _keep_tag_char(ch))


def _keep_tag_char(ch: str) -> bool:
    if ch in ("_", "\u00b7", "\u200c"):
        return True
    category = unicodedata.category(ch)
    return category[0] in ("L", "N")


def stream_name_from_path(path: str, query: Mapping[str, list[str]]) -> str | None:
    """SSE path -> stream name; None for anything Mastodon answers "Unknown channel requested"."""
    if not path.startswith(STREAMING_PREFIX + "/"):
        return None
    name = _PATHS.get(path[len(STREAMING_PREFIX) :])
    if name is None:
        return None
    if name in _MEDIA_CAPABLE:
        values = query.get("only_media")
        only_media: Any = None
        if values:
            only_media = values[0] if len(values) == 1 else values
        if is_truthy(only_media):
            name += ":media"
    return name


def required_scopes(name: str) -> frozenset[str]:
    """``checkScopes``: user:notification needs notifications; every other name needs statuses."""
    if name == "user:notification":
        return frozenset({"read", "read:notifications"})
    return frozenset({"read", "read:statuses"})


def has_scope(scopes: frozenset[str], name: str) -> bool:
    return bool(scopes & required_scopes(name)) or faults.active("scopes-not-enforced")  # FAULT


FILTERED_STREAMS = frozenset(
    {
        "public",
        "public:media",
        "public:local",
        "public:local:media",
        "public:remote",
        "public:remote:media",
        "hashtag",
        "hashtag:local",
    }
)


@dataclass(frozen=True)
class ChannelPlan:
    """What one subscription listens to and how its frames are labelled."""

    name: str
    channel_ids: tuple[str, ...]
    stream: tuple[Any, ...]  # the WebSocket ``stream`` array
    needs_filtering: bool

    @property
    def key(self) -> str:
        return ";".join(self.channel_ids)


def plan_channels(
    name: Any,
    params: Mapping[str, Any],
    *,
    account_id: str,
    scopes: frozenset[str],
    list_owner: Callable[[str], str | None],
) -> ChannelPlan:
    """``channelNameToIds`` + ``streamNameFromChannelName``; raises StreamError on refusal.

    ``params`` values are what Mastodon sees: a query string value (str, or a list when repeated)
    or a JSON value from a WebSocket message (any type).
    """
    filtered = name in FILTERED_STREAMS
    if name == "user":
        ids = [f"timeline:{account_id}"]
        if scopes & {"read", "read:notifications"}:
            ids.append(f"timeline:{account_id}:notifications")
        return ChannelPlan(name, tuple(ids), (name,), False)
    if name == "user:notification":
        return ChannelPlan(name, (f"timeline:{account_id}:notifications",), (name,), False)
    if name == "direct":
        return ChannelPlan(name, (f"timeline:direct:{account_id}",), (name,), False)
    if isinstance(name, str) and name.startswith("public") and filtered:
        return ChannelPlan(name, (f"timeline:{name}",), (name,), True)
    if name in ("hashtag", "hashtag:local"):
        tag = params.get("tag")
        if faults.active("accept-missing-tag") and not tag:  # FAULT
            tag = "untagged"
        if not js_truthy(tag) or (isinstance(tag, str | list) and len(tag) == 0):
            raise StreamError(MISSING_TAG, 400)
        if not isinstance(tag, str):
            raise unexpected()  # normalizeHashtag throws on arrays, numbers, objects
        suffix = ":local" if name == "hashtag:local" else ""
        channels = (f"timeline:hashtag:{normalize_hashtag(tag)}{suffix}",)
        if faults.active("hashtag-carries-public") and not suffix:  # FAULT
            channels += ("timeline:public",)
        if faults.active("ws-stream-normalized-tag"):  # FAULT
            tag = normalize_hashtag(tag)
        return ChannelPlan(name, channels, (name, tag), True)
    if name == "list":
        list_param = params.get("list")
        if faults.active("accept-missing-list") and not list_param:  # FAULT
            return ChannelPlan(name, ("timeline:list:",), (name, ""), False)
        if not js_truthy(list_param):
            raise StreamError(MISSING_LIST, 400)
        if isinstance(list_param, list | dict):
            raise StreamError(LIST_FORBIDDEN, 401)  # the database rejects the parameter
        list_id = js_string(list_param)
        if list_owner(list_id) != account_id and not faults.active("accept-foreign-list"):  # FAULT
            raise StreamError(LIST_FORBIDDEN, 401)
        return ChannelPlan(name, (f"timeline:list:{list_id}",), (name, list_param), False)
    raise StreamError(UNKNOWN_STREAM, 400)


def first_param(value: Any) -> Any:
    """``firstParam``: the first element of an array, anything else as is."""
    if isinstance(value, list):
        return value[0] if value else None
    return value
