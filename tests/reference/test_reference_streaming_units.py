"""Pure pieces of the streaming side: V8-style JSON, stream names and channels, keyword filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from conformance.reference.streaming.channels import (
    ChannelPlan,
    is_truthy,
    normalize_hashtag,
    plan_channels,
    stream_name_from_path,
)
from conformance.reference.streaming.encoding import NotJSON, js_number, parse, stringify
from conformance.reference.streaming.errors import StreamError
from conformance.reference.streaming.filtering import compile_filters, filter_results


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (117693363060746879, "117693363060746880"),  # ws-30 / sse-22: precision lost
        (1.0, "1"),
        (1.3333333333333333, "1.3333333333333333"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (-0.0, "0"),
        (123456789012345680000.0, "123456789012345680000"),
        (10**400, "null"),
    ],
)
def test_numbers_print_like_v8(value: float, text: str) -> None:
    assert js_number(value) == text


def test_stringify_is_compact_raw_utf8_with_v8_key_order() -> None:
    value = parse('{"b":"<é>\\u003c","2":1,"1":[true,null],"a":"\\ud800"}')
    assert stringify(value) == '{"1":[true,null],"2":1,"b":"<é><","a":"\\ud800"}'


def test_parse_rejects_what_json_parse_rejects() -> None:
    for text in ("NaN", "{'a':1}", "", "not json"):
        with pytest.raises(NotJSON):
            parse(text)


def test_hashtag_normalisation_folds_and_strips() -> None:
    assert normalize_hashtag("#Café") == "cafe"
    assert normalize_hashtag("FEDIVERSE") == "fediverse"
    assert normalize_hashtag("ｆｕｌｌ_ｗｉｄｔｈ") == "full_width"  # NFKC
    assert normalize_hashtag("日本語·tag") == "日本語·tag"


@pytest.mark.parametrize(
    ("value", "truthy"),
    [("true", True), ("no", True), ("False", True), ("", False), ("off", False), (None, False)],
)
def test_only_media_truthiness(value: str | None, truthy: bool) -> None:
    assert is_truthy(value) is truthy


def test_stream_names_from_paths_are_exact() -> None:
    assert stream_name_from_path("/api/v1/streaming/public/local", {}) == "public:local"
    assert (
        stream_name_from_path("/api/v1/streaming/public", {"only_media": ["1"]}) == "public:media"
    )
    assert stream_name_from_path("/api/v1/streaming/user/", {}) is None
    assert stream_name_from_path("/api/v1/streaming/public/local/media", {}) is None
    assert stream_name_from_path("/api/v1/streaming", {}) is None


def _plan(name: object, params: dict[str, object], scopes: set[str] | None = None) -> ChannelPlan:
    return plan_channels(
        name,
        params,
        account_id="7",
        scopes=frozenset(scopes or {"read"}),
        list_owner=lambda list_id: "7" if list_id == "1" else None,
    )


def test_channel_plans_and_frame_stream_arrays() -> None:
    assert _plan("user", {}).channel_ids == ("timeline:7", "timeline:7:notifications")
    assert _plan("user", {}, {"read:statuses"}).channel_ids == ("timeline:7",)
    tagged = _plan("hashtag:local", {"tag": "#Café"})
    assert (tagged.channel_ids, tagged.stream) == (
        ("timeline:hashtag:cafe:local",),
        ("hashtag:local", "#Café"),
    )
    listed = _plan("list", {"list": 1})
    assert (listed.channel_ids, listed.stream) == (("timeline:list:1",), ("list", 1))
    assert _plan("user", {}).key != _plan("user:notification", {}).key


@pytest.mark.parametrize(
    ("name", "params", "message", "status"),
    [
        ("nope", {}, "Unknown stream type", 400),
        (None, {}, "Unknown stream type", 400),
        ("hashtag", {"tag": ""}, "Missing tag name parameter", 400),
        ("hashtag", {"tag": ["a", "b"]}, "An unexpected error occurred", 500),
        ("list", {}, "Missing list name parameter", 400),
        ("list", {"list": "2"}, "Not authorized to stream this list", 401),
        ("list", {"list": "abc"}, "Not authorized to stream this list", 401),
    ],
)
def test_channel_refusals(
    name: object, params: dict[str, object], message: str, status: int
) -> None:
    with pytest.raises(StreamError) as caught:
        _plan(name, params)
    assert (caught.value.message, caught.value.status) == (message, status)


@dataclass
class Rule:
    id: str
    title: str
    context: list[str]
    expires_at: str | None
    filter_action: str
    keywords: list[tuple[str, bool]]


NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _status(content: str) -> dict[str, object]:
    return {"content": content, "spoiler_text": "", "media_attachments": [], "poll": None}


def test_whole_word_keywords_use_ascii_word_boundaries() -> None:
    filters = compile_filters([Rule("1", "t", ["public"], None, "warn", [("cat", True)])])
    assert filter_results(_status("<p>a Cat!</p>"), filters, NOW)[0]["keyword_matches"] == ["Cat"]
    assert filter_results(_status("<p>concatenate</p>"), filters, NOW) == []
    assert filter_results(_status("<p>écat</p>"), filters, NOW) != []  # é is not \\w in JS


def test_results_follow_filter_id_order_and_skip_expired() -> None:
    rules = [
        Rule("10", "ten", ["home"], None, "hide", [("x", False)]),
        Rule("9", "nine", ["home"], None, "blur", [("x", False)]),
        Rule("11", "old", ["home"], "2020-01-01T00:00:00.000Z", "warn", [("x", False)]),
    ]
    results = filter_results(_status("<p>x</p>"), compile_filters(rules), NOW)
    assert [r["filter"]["id"] for r in results] == ["9", "10"]
    assert "filter_action" not in results[0]["filter"]  # blur has no 4.8 streaming mapping
    assert results[1]["filter"]["filter_action"] == "hide"
