"""FilterResults for viewer renders, as Rails' StatusRelationshipsPresenter computes them.

Rails matches every unexpired filter of the viewer (context is not consulted at render time);
one regex per filter (the union of its keywords); ``keyword_matches`` holds the first match,
``status_matches`` the matched status ids or null. The filter is rendered without keywords.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.reference.store import CustomFilter, Status, Store, iso8601
from conformance.reference.web.textparse import plain_text


def keyword_regex(flt: CustomFilter) -> re.Pattern[str] | None:
    parts = []
    for kw in flt.keywords:
        escaped = re.escape(kw.keyword)
        if kw.whole_word:
            start = r"\b" if re.match(r"\w", kw.keyword) else ""
            end = r"\b" if re.search(r"\w$", kw.keyword) else ""
            parts.append(f"{start}{escaped}{end}")
        else:
            parts.append(escaped)
    if not parts:
        return None
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


def searchable_text(store: Store, status: Status) -> str:
    descriptions = [store.media[m].description or "" for m in status.media_ids if m in store.media]
    parts = [status.spoiler_text, plain_text(status.content), "\n\n".join(descriptions)]
    return "\n\n".join(parts)


def render_filter(flt: CustomFilter, *, with_rules: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": flt.id,
        "title": flt.title,
        "context": list(flt.context),
        "expires_at": iso8601(flt.expires_at),
        "filter_action": flt.filter_action,
    }
    if with_rules:
        out["keywords"] = [
            {"id": k.id, "keyword": k.keyword, "whole_word": k.whole_word} for k in flt.keywords
        ]
        out["statuses"] = [{"id": s.id, "status_id": s.status_id} for s in flt.statuses]
    return out


def filter_results(store: Store, viewer_id: str, status: Status) -> list[dict[str, Any]]:
    """``status`` is the proper status (the reblogged one for a reblog)."""
    filters = store.filters_of(viewer_id)
    if not filters:
        return []
    text = searchable_text(store, status)
    results = []
    for flt in filters:
        regex = keyword_regex(flt)
        match = regex.search(text) if regex else None
        keyword_matches = [match.group(0)] if match else None
        status_ids = {s.status_id for s in flt.statuses}
        status_matches = [status.id] if status.id in status_ids else None
        if keyword_matches is None and status_matches is None:
            continue
        results.append(
            {
                "filter": render_filter(flt),
                "keyword_matches": keyword_matches,
                "status_matches": status_matches,
            }
        )
    return results
