"""PayloadValidator behaviour: event mapping, severities, version gating, stream context."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from payload_examples import harvest

from conformance.payloads import NO_PAYLOAD, PayloadValidator, SchemaFinding


@pytest.fixture(scope="module")
def validator() -> PayloadValidator:
    return PayloadValidator.default()


@pytest.fixture(scope="module")
def examples(captures_dir: Path) -> dict[str, list[Any]]:
    return harvest(captures_dir)


@pytest.fixture
def status(examples: dict[str, list[Any]]) -> dict[str, Any]:
    """A public-stream Status (no viewer keys), as the streaming server sends it."""
    found = next(s for s in examples["status.schema.json"] if "favourited" not in s)
    return copy.deepcopy(found)


def _severities(findings: list[SchemaFinding]) -> list[str]:
    return [f.severity for f in findings]


def test_default_is_built_once() -> None:
    assert PayloadValidator.default() is PayloadValidator.default()


def test_valid_status_has_no_findings(validator: PayloadValidator, status: dict) -> None:
    assert validator.check_event("update", status, stream="public") == []
    assert validator.check_event("status.update", status, stream="hashtag:local") == []
    assert validator.check_entity("Status", status) == []


def test_unknown_event_is_info(validator: PayloadValidator) -> None:
    (finding,) = validator.check_event("made.up.event", {"k": "v"})
    assert finding.severity == "info"
    assert "no schema for event 'made.up.event'" in finding.message


@pytest.mark.parametrize("event", ["delete", "announcement.delete"])
def test_id_events_take_any_non_empty_string(validator: PayloadValidator, event: str) -> None:
    assert validator.check_event(event, "117693363060746879") == []
    assert validator.check_event(event, "a1b2-c3") == []  # digits are not required
    assert _severities(validator.check_event(event, "")) == ["fail"]


def test_numeric_id_is_a_clear_failure(validator: PayloadValidator) -> None:
    (finding,) = validator.check_event("delete", 117693363060746880)
    assert finding.severity == "fail"
    assert finding.expected == "string"
    assert finding.observed.startswith("integer: 117693363060746880")
    assert "precision" in finding.message


def test_notifications_merged_is_a_string(validator: PayloadValidator) -> None:
    assert validator.check_event("notifications_merged", "1") == []
    assert _severities(validator.check_event("notifications_merged", 1)) == ["fail"]


def test_filters_changed_carries_no_payload(validator: PayloadValidator) -> None:
    assert validator.check_event("filters_changed", NO_PAYLOAD) == []
    assert validator.check_event("filters_changed", None) == []
    (finding,) = validator.check_event("filters_changed", {"id": "1"})
    assert finding.severity == "fail"
    assert finding.expected == "no payload"


def test_missing_payload_fails(validator: PayloadValidator) -> None:
    (finding,) = validator.check_event("update", NO_PAYLOAD)
    assert (finding.severity, finding.observed) == ("fail", "no payload")


def test_double_encoded_payload_fails_clearly(validator: PayloadValidator, status: dict) -> None:
    import json

    (finding,) = validator.check_event("update", json.dumps(status), stream="public")
    assert finding.severity == "fail"
    assert finding.expected == "object (Status)"
    assert "double-encoded" in finding.message
    (finding,) = validator.check_event("notification", 42)
    assert finding.severity == "fail" and finding.observed == "integer: 42"


def test_error_reports_pointer_expected_observed(validator: PayloadValidator, status: dict) -> None:
    status["account"]["created_at"] = "yesterday"
    status["reblogs_count"] = "3"
    findings = {f.pointer: f for f in validator.check_event("update", status)}
    created = findings["/account/created_at"]
    assert (created.severity, created.expected, created.observed) == (
        "fail",
        "format date-time",
        'string: "yesterday"',
    )
    count = findings["/reblogs_count"]
    assert (count.expected, count.observed) == ("integer", 'string: "3"')
    assert count.message.startswith("Status /reblogs_count")


def test_nested_nullable_entity_errors_point_inside(
    validator: PayloadValidator, status: dict
) -> None:
    reblogged = copy.deepcopy(status)
    del reblogged["account"]["acct"]
    status["reblog"] = reblogged
    (finding,) = validator.check_event("update", status)
    assert (finding.severity, finding.pointer) == ("fail", "/reblog/account/acct")


def test_unknown_key_is_info_and_unknown_enum_value_is_warn(
    validator: PayloadValidator, status: dict
) -> None:
    status["local_only"] = True  # glitch-soc
    status["account"]["fork_flag"] = 1
    status["visibility"] = "local"
    findings = validator.check_event("update", status, stream="public")
    by_pointer = {f.pointer: f.severity for f in findings}
    assert by_pointer == {
        "/local_only": "info",
        "/account/fork_flag": "info",
        "/visibility": "warn",
    }


def test_unknown_notification_type_is_warn(
    validator: PayloadValidator, examples: dict[str, list[Any]]
) -> None:
    notification = copy.deepcopy(examples["notification.schema.json"][0])
    notification["type"] = "emoji_reaction"
    findings = validator.check_event("notification", notification)
    assert [(f.severity, f.pointer) for f in findings] == [("warn", "/type")]


def test_notification_type_requires_its_attachment(
    validator: PayloadValidator, examples: dict[str, list[Any]]
) -> None:
    mention = copy.deepcopy(
        next(n for n in examples["notification.schema.json"] if n["type"] == "mention")
    )
    del mention["status"]
    (finding,) = validator.check_event("notification", mention)
    assert (finding.severity, finding.pointer) == ("fail", "/status")
    mention["type"] = "follow"
    assert validator.check_event("notification", mention) == []


@pytest.mark.parametrize(
    ("server_version", "severity"),
    [
        (None, "fail"),
        ("4.8.0-alpha.1", "fail"),
        ("4.5.0", "fail"),
        ("4.4.2", "warn"),
        ("3.5.3", "warn"),
    ],
)
def test_version_gating(
    validator: PayloadValidator, status: dict, server_version: str | None, severity: str
) -> None:
    del status["quotes_count"]  # added in 4.5.0
    findings = validator.check_event("update", status, server_version=server_version)
    assert [(f.severity, f.pointer) for f in findings] == [(severity, "/quotes_count")]


def test_version_gating_does_not_excuse_old_keys(validator: PayloadValidator, status: dict) -> None:
    del status["spoiler_text"]
    findings = validator.check_event("update", status, server_version="3.0.0")
    assert _severities(findings) == ["fail"]


def test_viewer_keys_by_stream(validator: PayloadValidator, examples: dict[str, list[Any]]) -> None:
    rendered = next(s for s in examples["status.schema.json"] if "favourited" in s)
    assert validator.check_event("update", rendered, stream="user") == []
    findings = validator.check_event("update", rendered, stream="public:local")
    assert _severities(findings) == ["info"]
    anonymous = {k: v for k, v in rendered.items() if k not in ("favourited", "reblogged")}
    assert _severities(validator.check_event("update", anonymous, stream="list")) == ["info"]


def test_filtered_on_public_streams_is_fine_either_way(
    validator: PayloadValidator, status: dict
) -> None:
    status.pop("filtered", None)
    assert validator.check_event("update", status, stream="public") == []
    status["filtered"] = []
    assert validator.check_event("update", status, stream="public") == []


def test_streamed_blur_filter_may_lack_filter_action(validator: PayloadValidator) -> None:
    result = {
        "filter": {"id": "9", "title": "Blurry", "context": ["public"], "expires_at": None},
        "keyword_matches": ["x"],
        "status_matches": None,
    }
    assert validator.check_entity("FilterResult", result) == []
    (finding,) = validator.check_entity("Filter", result["filter"])
    assert (finding.severity, finding.pointer) == ("fail", "/filter_action")


def test_optional_is_not_nullable(validator: PayloadValidator, examples: dict) -> None:
    account = copy.deepcopy(examples["account.schema.json"][0])
    account.pop("roles", None)
    assert validator.check_entity("Account", account) == []  # optional: may be absent
    account["roles"] = None
    (finding,) = validator.check_entity("Account", account)
    assert (finding.severity, finding.pointer) == ("fail", "/roles")
    account.pop("roles")
    account["last_status_at"] = None  # nullable: may be null
    assert validator.check_entity("Account", account) == []
    del account["last_status_at"]  # ...but must be present
    assert _severities(validator.check_entity("Account", account)) == ["fail"]


def test_last_status_at_is_a_date(validator: PayloadValidator, examples: dict) -> None:
    account = copy.deepcopy(examples["account.schema.json"][0])
    account["last_status_at"] = "2026-11-28T09:30:01.000Z"
    (finding,) = validator.check_entity("Account", account)
    assert finding.expected == "format date"


def test_remote_urls_accept_iris(validator: PayloadValidator) -> None:
    mention = {"id": "1", "username": "jo", "acct": "jo@bücher.example"}
    for url, ok in [
        ("https://bücher.example/@jo", True),
        ("https://x.example/@ユーザー", True),
        ("https://x.example/@jo smith", False),
        ("x.example/@jo", False),
    ]:
        item = {**mention, "url": url}
        assert validator.is_valid_fast("mention.schema.json", item) is ok, url
        assert validator.is_valid_detailed("mention.schema.json", item) is ok, url


def test_announcement_statuses_accept_both_shapes(
    validator: PayloadValidator, examples: dict, status: dict
) -> None:
    announcement = copy.deepcopy(examples["announcement.schema.json"][0])
    announcement["statuses"] = [
        {"id": "1", "url": "https://mastodon.example/@alice/1"},
        status,
    ]
    assert validator.check_event("announcement", announcement) == []


def test_language_is_lenient(validator: PayloadValidator, status: dict) -> None:
    for code in ("en", "tok", "zh-CN", "zh-YUE", None):
        status["language"] = code
        assert validator.check_entity("Status", status) == [], code
    status["language"] = "English"
    assert _severities(validator.check_entity("Status", status)) == ["fail"]


def test_unknown_entity_raises(validator: PayloadValidator) -> None:
    with pytest.raises(KeyError):
        validator.check_entity("Nope", {})


def test_refs_are_never_fetched() -> None:
    """A $ref outside the local registry is an error, not a network request."""
    import jsonschema_rs
    import referencing.exceptions
    from jsonschema import Draft202012Validator

    from conformance.payloads.compiled import rs_registry
    from conformance.payloads.loader import build_registry, load_schemas

    remote = {"$ref": "https://example.com/elsewhere.schema.json"}
    detail = Draft202012Validator(remote, registry=build_registry(load_schemas()))
    with pytest.raises(referencing.exceptions.Unresolvable):
        detail.is_valid({})
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.Draft202012Validator(
            remote, registry=rs_registry(load_schemas()), offline=True
        )


def test_extensions_inside_alternatives_are_found(
    validator: PayloadValidator, status: dict
) -> None:
    """Unknown keys inside anyOf branches (nullable refs, Quote/ShallowQuote) keep their path."""
    inner = copy.deepcopy(status)
    inner["quote"] = {"state": "accepted", "quoted_status_id": "1", "fork_key": 1}
    status["quote"] = {"state": "accepted", "quoted_status": inner}
    reblogged = copy.deepcopy(inner)
    reblogged["quote"] = None
    reblogged["emoji_reactions"] = []
    status["reblog"] = reblogged
    findings = validator.check_event("update", status)
    assert sorted((f.severity, f.pointer) for f in findings) == [
        ("info", "/quote/quoted_status/quote/fork_key"),
        ("info", "/reblog/emoji_reactions"),
    ]
