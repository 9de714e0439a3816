"""Valid examples of every schema, for the mutation and agreement tests.

Most examples are harvested from the real Mastodon captures (the entities nested inside the
delivered payloads). Entities the captures never carry (reports, quotes, cards, emoji...) are
written here to the shape of Mastodon 4.8's serializers, reusing a captured Account.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conformance.payloads.samples import DeliveredPayload, iter_captures

MALFORMED_CAPTURES = frozenset(
    {"sse-22-user-passthrough-and-malformed", "ws-30-user-payload-encoding"}
)

EVENT_ENTITY = {
    "update": "status.schema.json",
    "status.update": "status.schema.json",
    "notification": "notification.schema.json",
    "conversation": "conversation.schema.json",
    "announcement": "announcement.schema.json",
    "announcement.reaction": "announcement-reaction.schema.json",
}


def delivered(captures_dir: Path) -> list[DeliveredPayload]:
    return list(iter_captures(captures_dir))


def _status_parts(status: dict[str, Any], out: dict[str, list[Any]]) -> None:
    out.setdefault("status.schema.json", []).append(status)
    _account_parts(status["account"], out)
    for media in status.get("media_attachments", []):
        out.setdefault("media-attachment.schema.json", []).append(media)
    for mention in status.get("mentions", []):
        out.setdefault("mention.schema.json", []).append(mention)
    for tag in status.get("tags", []):
        out.setdefault("status-tag.schema.json", []).append(tag)
    for emoji in status.get("emojis", []):
        out.setdefault("custom-emoji.schema.json", []).append(emoji)
    if status.get("poll"):
        out.setdefault("poll.schema.json", []).append(status["poll"])
    if status.get("card"):
        out.setdefault("preview-card.schema.json", []).append(status["card"])
    if "quote_approval" in status:
        out.setdefault("quote-approval.schema.json", []).append(status["quote_approval"])
    for result in status.get("filtered", []):
        out.setdefault("filter-result.schema.json", []).append(result)
    if status.get("reblog"):
        _status_parts(status["reblog"], out)


def _account_parts(account: dict[str, Any], out: dict[str, list[Any]]) -> None:
    out.setdefault("account.schema.json", []).append(account)
    for field in account.get("fields", []):
        out.setdefault("field.schema.json", []).append(field)
    for role in account.get("roles", []):
        out.setdefault("account-role.schema.json", []).append(role)
    if "feature_approval" in account:
        out.setdefault("feature-approval.schema.json", []).append(account["feature_approval"])


def harvest(captures_dir: Path) -> dict[str, list[Any]]:
    """Schema file -> valid instances found in the conformant captures."""
    out: dict[str, list[Any]] = {}
    for item in delivered(captures_dir):
        if item.capture in MALFORMED_CAPTURES or not isinstance(item.payload, dict):
            continue
        schema = EVENT_ENTITY.get(item.event)
        if schema is None:
            continue
        if schema == "status.schema.json":
            _status_parts(item.payload, out)
            continue
        out.setdefault(schema, []).append(item.payload)
        if item.event == "notification":
            _account_parts(item.payload["account"], out)
            if "status" in item.payload:
                _status_parts(item.payload["status"], out)
        elif item.event == "conversation":
            for account in item.payload["accounts"]:
                _account_parts(account, out)
            if item.payload.get("last_status"):
                _status_parts(item.payload["last_status"], out)
    return out


def written(account: dict[str, Any], status: dict[str, Any]) -> dict[str, list[Any]]:
    """Hand-written examples of the entities the captures never carry."""
    emoji = {
        "shortcode": "blobcat",
        "url": "https://mastodon.example/system/custom_emojis/images/000/000/001/original/blobcat.png",
        "static_url": "https://mastodon.example/system/custom_emojis/images/000/000/001/static/blobcat.png",
        "visible_in_picker": True,
    }
    card = {
        "url": "https://news.example/articles/tulips",
        "title": "Tulip season",
        "description": "All about tulips.",
        "language": "en",
        "type": "link",
        "author_name": "",
        "author_url": "",
        "provider_name": "News Example",
        "provider_url": "",
        "html": "",
        "width": 400,
        "height": 300,
        "image": "https://mastodon.example/system/cache/preview_cards/images/000/000/001/original/x.jpg",
        "image_description": "",
        "embed_url": "",
        "blurhash": "UeKUpFxuo~R%0nW;WCnhF6RjaJt757oJodS$",
        "published_at": "2026-11-27T08:00:00.000Z",
        "authors": [{"name": "Jo Writer", "url": "https://news.example/jo", "account": None}],
    }
    shallow = {"state": "accepted", "quoted_status_id": "117693363060746879"}
    inner = copy.deepcopy(status)
    inner["quote"] = shallow
    quote = {"state": "accepted", "quoted_status": inner}
    quoting = copy.deepcopy(status)
    quoting["id"] = "117693363060746999"
    quoting["quote"] = quote
    quoting["card"] = card
    quoting["emojis"] = [emoji]
    report = {
        "id": "48",
        "action_taken": False,
        "action_taken_at": None,
        "category": "spam",
        "comment": "spam links",
        "forwarded": False,
        "created_at": "2026-11-28T09:31:00.000Z",
        "status_ids": ["117693363060746879"],
        "rule_ids": None,
        "collection_ids": None,
        "target_account": account,
    }
    event = {
        "id": "5",
        "type": "domain_block",
        "purged": False,
        "target_name": "bad.example",
        "followers_count": 2,
        "following_count": 0,
        "created_at": "2026-11-28T09:32:00.000Z",
    }
    warning = {
        "id": "9",
        "action": "silence",
        "text": "Please stop.",
        "status_ids": None,
        "target_account": account,
        "appeal": {"text": "It was a joke", "state": "pending"},
        "created_at": "2026-11-28T09:33:00.000Z",
    }
    collection = {
        "id": "3",
        "account_id": account["id"],
        "uri": "https://mastodon.example/users/alice/collections/3",
        "url": None,
        "name": "Photographers",
        "description": "<p>People who shoot.</p>",
        "language": "en",
        "local": True,
        "sensitive": False,
        "discoverable": True,
        "tag": {"name": "photography", "url": "https://mastodon.example/tags/photography"},
        "created_at": "2026-11-28T09:34:00.000Z",
        "updated_at": "2026-11-28T09:34:00.000Z",
        "item_count": 0,
        "items": [],
    }
    base_notification = {
        "id": "4200",
        "created_at": "2026-11-28T09:35:00.000Z",
        "group_key": "ungrouped-4200",
        "account": account,
    }
    filter_rest = {
        "id": "11",
        "title": "TV spoilers",
        "context": ["home", "public"],
        "expires_at": None,
        "filter_action": "warn",
        "keywords": [{"id": "7", "keyword": "spoilers", "whole_word": True}],
        "statuses": [{"id": "2", "status_id": "117693363060746879"}],
    }
    return {
        "custom-emoji.schema.json": [emoji, {**emoji, "category": "Blobs", "featured": False}],
        "preview-card.schema.json": [card],
        "quote.schema.json": [quote, {"state": "deleted", "quoted_status": None}],
        "shallow-quote.schema.json": [shallow],
        "status.schema.json": [quoting],
        "tag.schema.json": [
            {
                "id": "1",
                "name": "fediverse",
                "url": "https://mastodon.example/tags/fediverse",
                "history": [{"day": "1795824000", "uses": "12", "accounts": "9"}],
                "following": False,
            }
        ],
        "role.schema.json": [
            {
                "id": "3",
                "name": "Owner",
                "color": "",
                "permissions": "1",
                "highlighted": True,
                "collection_limit": 10,
            }
        ],
        "account-role.schema.json": [{"id": "3", "name": "Owner", "color": ""}],
        "application.schema.json": [
            {
                "id": "1",
                "name": "Web",
                "website": None,
                "scopes": ["read", "write"],
                "redirect_uris": ["urn:ietf:wg:oauth:2.0:oob"],
                "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            }
        ],
        "filter.schema.json": [filter_rest],
        "filter-keyword.schema.json": filter_rest["keywords"],
        "filter-status.schema.json": filter_rest["statuses"],
        "report.schema.json": [report],
        "relationship-severance-event.schema.json": [event],
        "account-warning.schema.json": [warning],
        "notification-fallback.schema.json": [
            {"title": "<p>Something happened</p>", "summary": None, "description": None}
        ],
        "collection.schema.json": [collection],
        "notification.schema.json": [
            {**base_notification, "type": "admin.report", "report": report},
            {**base_notification, "type": "severed_relationships", "event": event},
            {**base_notification, "type": "moderation_warning", "moderation_warning": warning},
            {**base_notification, "type": "added_to_collection", "collection": collection},
            {**base_notification, "type": "quote", "status": quoting},
            {**base_notification, "type": "follow_request"},
        ],
    }


def all_examples(captures_dir: Path) -> dict[str, list[Any]]:
    """Harvested plus hand-written examples for every entity schema."""
    examples = harvest(captures_dir)
    account = examples["account.schema.json"][0]
    status = examples["status.schema.json"][0]
    for schema, items in written(account, status).items():
        examples.setdefault(schema, []).extend(items)
    examples["event-update.schema.json"] = examples["status.schema.json"][:5]
    return examples


def iter_examples(examples: dict[str, list[Any]]) -> Iterator[tuple[str, Any]]:
    for schema, items in sorted(examples.items()):
        for item in items:
            yield schema, item
