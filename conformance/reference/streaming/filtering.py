"""The filtering the streaming server does itself: public*/hashtag* ``update``/``status.update``.

Rails filters home, list and direct timelines before publishing; public and hashtag payloads are
rendered once for everybody, so ``streaming/index.js`` (``:665-914``) drops or annotates them per
viewer: feed-access settings, chosen languages, blocks/mutes, domain blocks, then keyword filters
that append ``"filtered": [...]`` (``[]`` when nothing matches). This module is that decision,
with the store passed in: no I/O of its own.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from .. import faults

#: ``view_feeds`` role permission bit (``streaming/index.js`` ``:23``): bypasses feed access.
PERMISSION_VIEW_FEEDS = 0x100000
DISABLED_SETTING = "--- disabled\n"

_JS_REGEX_SPECIAL = re.compile(r"[.*+?^${}()|\[\]\\]")
_JS_WORD = re.compile(r"[A-Za-z0-9_]")
_BR = re.compile(r"<br\s*/?>")


@dataclass
class FeedAccess:
    """Which halves of a public/hashtag feed the viewer may read (read once per subscription)."""

    local: bool = True
    remote: bool = True

    @classmethod
    def for_stream(cls, store: Any, stream_name: str, permissions: int) -> FeedAccess:
        if permissions & PERMISSION_VIEW_FEEDS:
            return cls()
        kind = "topic" if stream_name.startswith("hashtag") else "live"
        return cls(
            local=store.feed_access(f"local_{kind}_feed_access") != DISABLED_SETTING,
            remote=store.feed_access(f"remote_{kind}_feed_access") != DISABLED_SETTING,
        )


@dataclass
class CompiledFilter:
    filter_json: dict[str, Any]
    expires_at: datetime | None
    regex: re.Pattern[str]


@dataclass
class FilterCache:
    """Per connection, like ``req.cachedFilters``: built on first use, reset by filters_changed."""

    filters: list[CompiledFilter] | None = None
    built: int = field(default=0)

    def reset(self) -> None:
        self.filters = None


def keyword_pattern(keywords: list[tuple[str, bool]]) -> re.Pattern[str]:
    """One case-insensitive alternation per filter; ``whole_word`` adds ASCII word boundaries."""
    parts = []
    for keyword, whole_word in keywords:
        expr = _JS_REGEX_SPECIAL.sub(lambda m: "\\" + m.group(), keyword)
        if whole_word:
            # JavaScript's \w and \b (no "u" flag) are ASCII-only.
            if expr and _JS_WORD.match(expr[0]):
                expr = r"(?<![A-Za-z0-9_])" + expr
            if expr and _JS_WORD.match(expr[-1]):
                expr = expr + r"(?![A-Za-z0-9_])"
        parts.append(expr)
    return re.compile("|".join(parts), re.IGNORECASE)


def _parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _filter_sort_key(rule: Any) -> tuple[int, int, str]:
    # Object.values() of an object keyed by numeric ids lists them in ascending order.
    rule_id = str(rule.id)
    return (0, int(rule_id), "") if rule_id.isdigit() else (1, 0, rule_id)


def compile_filters(rules: list[Any]) -> list[CompiledFilter]:
    compiled = []
    for rule in sorted(rules, key=_filter_sort_key):
        keywords = [(str(k), bool(w)) for k, w in rule.keywords]
        if not keywords:
            continue  # the SQL join yields no row for a filter without keywords
        filter_json: dict[str, Any] = {
            "id": str(rule.id),
            "title": rule.title,
            "context": list(rule.context),
            "expires_at": rule.expires_at,
        }
        if rule.filter_action in ("warn", "hide"):  # ['warn', 'hide'][action]: blur -> no key
            filter_json["filter_action"] = rule.filter_action
        compiled.append(
            CompiledFilter(filter_json, _parse_time(rule.expires_at), keyword_pattern(keywords))
        )
    return compiled


class _TextContent(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def searchable_text(status: dict[str, Any]) -> str:
    """The text filters run over: spoiler, content, poll options, media descriptions, as text."""
    pieces: list[Any] = [status.get("spoiler_text") or "", status.get("content")]
    poll = status.get("poll")
    if isinstance(poll, dict) and isinstance(poll.get("options"), list):
        pieces += [o.get("title") if isinstance(o, dict) else None for o in poll["options"]]
    media = status.get("media_attachments")
    if isinstance(media, list):
        pieces += [m.get("description") if isinstance(m, dict) else None for m in media]
    joined = "\n\n".join("" if p is None else str(p) for p in pieces)
    joined = _BR.sub("\n", joined).replace("</p><p>", "\n\n")
    parser = _TextContent()
    try:
        parser.feed(joined)
        parser.close()
    except Exception:
        return html.unescape(joined)
    return "".join(parser.parts)


def filter_results(
    status: dict[str, Any], filters: list[CompiledFilter], now: datetime
) -> list[Any]:
    text = searchable_text(status)
    results: list[Any] = []
    if not text:
        return results
    for compiled in filters:
        if compiled.expires_at is not None and compiled.expires_at < now:
            continue
        match = compiled.regex.search(text)
        if match:
            results.append(
                {
                    "filter": compiled.filter_json,
                    "keyword_matches": [match.group()],
                    "status_matches": None,
                }
            )
    return results


def _account_of(status: dict[str, Any]) -> dict[str, Any] | None:
    account = status.get("account")
    return account if isinstance(account, dict) else None


def filter_status(
    status: Any,
    *,
    store: Any,
    viewer_id: str,
    chosen_languages: list[str] | None,
    access: FeedAccess,
    cache: FilterCache,
    now: datetime | None = None,
) -> Any | None:
    """The payload to send (with ``filtered`` added when computed here), or None to drop it."""
    if not isinstance(status, dict):
        return None  # Mastodon crashes on these (crash-01); a reference drops them
    account = _account_of(status)
    if account is None:
        return None
    is_local = account.get("username") == account.get("acct")
    if not (access.local if is_local else access.remote):
        return None
    if chosen_languages is not None and status.get("language") not in chosen_languages:
        return None
    author_id = str(account.get("id"))
    mentions = status.get("mentions") if isinstance(status.get("mentions"), list) else []
    targets = [author_id] + [str(m.get("id")) for m in mentions if isinstance(m, dict)]
    hidden = store.blocks_or_mutes_any(viewer_id, targets)
    if faults.active("ignore-mutes"):  # FAULT: blocks only
        hidden = any((viewer_id, target) in store.blocks for target in targets)
    if faults.active("ignore-blocks"):  # FAULT: mutes only
        hidden = any((viewer_id, target) in store.mutes for target in targets)
    if hidden or store.is_blocked_by(author_id, viewer_id):
        return None
    acct = str(account.get("acct") or "")
    if "@" in acct:
        domain = acct.split("@")[1]
        if domain and store.blocks_domain(viewer_id, domain):
            return None
    if "filtered" in status:
        return status
    if cache.filters is None:
        cache.filters = compile_filters(list(store.active_filters(viewer_id)))
        cache.built += 1
    results = filter_results(status, cache.filters, now or datetime.now(UTC))
    return {**status, "filtered": results}
