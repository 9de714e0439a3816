"""Entity rendering against entities.md and the key sets of the recorded Mastodon payloads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from reference_web_support import web_harness

from conformance.reference.web.textparse import MentionTarget, normalize_tag, parse_status_text

DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
# entities.md "Required" + "Nullable" (always present) keys.
STATUS_ALWAYS = {
    "id", "uri", "created_at", "account", "content", "visibility", "sensitive", "spoiler_text",
    "media_attachments", "mentions", "tags", "emojis", "reblogs_count", "favourites_count",
    "replies_count", "quotes_count", "quote_approval", "url", "in_reply_to_id",
    "in_reply_to_account_id", "reblog", "poll", "card", "language", "edited_at", "quote",
}  # fmt: skip
ACCOUNT_ALWAYS = {
    "id", "username", "acct", "uri", "display_name", "note", "avatar", "avatar_static", "header",
    "header_static", "avatar_description", "header_description", "locked", "bot", "group",
    "indexable", "fields", "emojis", "created_at", "statuses_count", "followers_count",
    "following_count", "show_media", "show_media_replies", "show_featured", "url",
    "discoverable", "last_status_at", "hide_collections",
}  # fmt: skip


def _capture_payloads(captures_dir: Path, name: str, channel: str) -> list[dict[str, Any]]:
    out = []
    for line in (captures_dir / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("kind") == "redis-publish" and record["channel"] == channel:
            message = json.loads(record["message"])
            if isinstance(message, dict) and isinstance(message.get("payload"), dict):
                out.append(message)
    return out


def _datetimes(obj: Any, path: str = "") -> list[tuple[str, str]]:
    found = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key.endswith("_at") and isinstance(value, str) and key != "last_status_at":
                found.append((f"{path}/{key}", value))
            found.extend(_datetimes(value, f"{path}/{key}"))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found.extend(_datetimes(value, f"{path}/{i}"))
    return found


async def test_status_has_every_required_and_nullable_key_and_iso_datetimes() -> None:
    async with web_harness() as h:
        status = await h.post("hi #there @bob", spoiler_text="cw")
        assert status.keys() >= STATUS_ALWAYS
        assert status["account"].keys() >= ACCOUNT_ALWAYS
        assert status["tags"] == [{"name": "there", "url": "http://mastodon.test/tags/there"}]
        assert status["mentions"] == [
            {"id": h.bob.id, "username": "bob", "url": "http://mastodon.test/@bob", "acct": "bob"}
        ]
        assert status["sensitive"] is True  # a content warning marks it sensitive
        assert status["application"] == {"name": "Web", "website": None}
        for where, value in _datetimes(status):
            assert DATETIME.fullmatch(value), where
        assert status["account"]["created_at"].endswith("T00:00:00.000Z")
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", status["account"]["last_status_at"])


async def test_anonymous_status_keys_match_the_recorded_public_payload(captures_dir: Path) -> None:
    (recorded, *_) = _capture_payloads(captures_dir, "sse-03-public", "timeline:public")
    async with web_harness() as h:
        await h.post("Hello #Fediverse")
        (ours,) = h.bus.messages("timeline:public")
    assert list(ours["payload"]) == list(recorded["payload"])
    assert list(ours["payload"]["account"]) == list(recorded["payload"]["account"])


async def test_home_status_keys_match_the_recorded_home_payload(captures_dir: Path) -> None:
    channel = "timeline:109302139442357034"
    (recorded, *_) = _capture_payloads(captures_dir, "sse-01-user", channel)
    async with web_harness() as h:
        await h.subscribe(f"timeline:{h.alice.id}")
        await h.post("Hello #Fediverse")
        (ours,) = h.bus.messages(f"timeline:{h.alice.id}")
    assert list(ours["payload"]) == list(recorded["payload"])


async def test_remote_account_omits_local_only_keys(captures_dir: Path) -> None:
    channel = "timeline:109302139442357034:notifications"
    recorded = _capture_payloads(captures_dir, "sse-01-user", channel)[0]["payload"]["account"]
    async with web_harness() as h:
        remote = await h.ok("GET", f"/api/v1/accounts/{h.carol.id}")
        local = await h.ok("GET", f"/api/v1/accounts/{h.alice.id}")
    assert list(remote) == list(recorded)
    assert "roles" not in remote and "noindex" not in remote
    assert local["roles"] == [] and local["noindex"] is False
    assert remote["acct"] == "carol@remote.example"


async def test_notification_and_conversation_keys_match_recordings(captures_dir: Path) -> None:
    alice = "109302139442357034"
    (recorded_note, *_) = _capture_payloads(
        captures_dir, "sse-01-user", f"timeline:{alice}:notifications"
    )
    (recorded_conv, *_) = _capture_payloads(
        captures_dir, "sse-13-direct", f"timeline:direct:{alice}"
    )
    async with web_harness() as h:
        await h.subscribe(f"timeline:{h.alice.id}:notifications", f"timeline:direct:{h.alice.id}")
        await h.post("@alice psst", as_="bob", visibility="direct")
        (note,) = h.bus.messages(f"timeline:{h.alice.id}:notifications")
        (conv,) = h.bus.messages(f"timeline:direct:{h.alice.id}")
    assert list(note["payload"]) == list(recorded_note["payload"])
    assert list(conv["payload"]) == list(recorded_conv["payload"])
    assert list(conv["payload"]["last_status"]) == list(recorded_conv["payload"]["last_status"])


async def test_announcement_and_media_keys_match_recordings(captures_dir: Path) -> None:
    user = _capture_payloads(captures_dir, "sse-01-user", "timeline:109302139442357034")
    recorded_ann = next(m["payload"] for m in user if m["event"] == "announcement")
    recorded_media = next(
        m["payload"]["reblog"]["media_attachments"][0]
        for m in user
        if m["event"] == "update" and m["payload"]["reblog"]
    )
    async with web_harness() as h:
        ann = await h.ok("POST", "/_reference/announcements", as_=None, json_body={"text": "x"})
        status = await h.ok(
            "POST", "/_reference/remote_statuses", as_=None, json_body={"text": "m", "media": True}
        )
    assert list(ann) == list(recorded_ann)
    (media,) = status["media_attachments"]
    assert list(media) == list(recorded_media)
    assert media["remote_url"].startswith("https://files.remote.example/")


def _resolve(username: str, domain: str | None) -> MentionTarget | None:
    if username == "bob" and domain is None:
        return MentionTarget("2", "bob", "http://x/@bob")
    if username == "carol" and domain == "remote.example":
        return MentionTarget("3", "carol", "https://remote.example/@carol")
    return None


def test_text_is_escaped_and_paragraphed() -> None:
    parsed = parse_status_text("a <b> & 'c'\n\nnext\nline", base_url="http://x", resolve=_resolve)
    assert parsed.content == "<p>a &lt;b&gt; &amp; &#39;c&#39;</p><p>next<br />line</p>"


def test_hashtags_are_linked_and_normalised() -> None:
    parsed = parse_status_text(
        "#Café and #café and #123 x#no", base_url="http://x", resolve=_resolve
    )
    assert parsed.tags == ["cafe"]
    assert parsed.content.count('class="mention hashtag"') == 2
    assert (
        '<a href="http://x/tags/cafe" class="mention hashtag" rel="tag">#<span>Café</span></a>'
        in (parsed.content)
    )


def test_mentions_resolve_local_and_remote_and_skip_unknown() -> None:
    parsed = parse_status_text(
        "@bob @carol@remote.example @nobody", base_url="http://x", resolve=_resolve
    )
    assert parsed.mention_ids == ["2", "3"]
    assert "@nobody" in parsed.content
    assert 'class="u-url mention">@<span>carol</span></a>' in parsed.content


def test_urls_are_linked_and_their_fragments_not_parsed_as_tags() -> None:
    parsed = parse_status_text(
        "see https://e.example/a#frag.", base_url="http://x", resolve=_resolve
    )
    assert parsed.tags == []
    assert 'href="https://e.example/a#frag"' in parsed.content


@pytest.mark.parametrize(
    ("written", "channel_name"),
    [("Fediverse", "fediverse"), ("Café", "cafe"), ("ＦＵＬＬ", "full"), ("日本語", "日本語")],
)
def test_normalize_tag_matches_the_streaming_channel_name(written: str, channel_name: str) -> None:
    assert normalize_tag(written) == channel_name
