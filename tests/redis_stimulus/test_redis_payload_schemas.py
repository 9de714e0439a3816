"""Every payload the Redis builders publish validates against ``schemas/`` for its stream."""

from __future__ import annotations

import json

import pytest

from conformance.payloads.validator import PayloadValidator
from conformance.stimulus import base
from conformance.stimulus.redis_fanout import Cast, FanOut

VERSION = "4.8.0-alpha.1"


def _stream(channel: str) -> str:
    """The stream a client reading ``channel`` subscribed to (for the viewer-key rules)."""
    if channel.startswith("timeline:public"):
        return channel[len("timeline:") :]
    if channel.startswith("timeline:hashtag:"):
        return "hashtag:local" if channel.endswith(":local") else "hashtag"
    if channel.startswith("timeline:list:"):
        return "list"
    if channel.startswith("timeline:direct:"):
        return "direct"
    if channel.endswith(":notifications"):
        return "user:notification"
    return "user"


SEQUENCE: list[tuple[str, dict[str, object]]] = [
    (base.STATUS_PUBLIC, {}),
    (base.STATUS_PUBLIC_MEDIA, {}),
    (base.STATUS_REMOTE, {}),
    (base.STATUS_REMOTE_MEDIA, {}),
    (base.STATUS_UNLISTED, {}),
    (base.STATUS_PRIVATE, {}),
    (base.STATUS_DIRECT, {}),
    (base.STATUS_MENTION, {}),
    (base.STATUS_OWN, {"visibility": "public"}),
    (base.FAVOURITE, {}),
    (base.REBLOG, {}),
    (base.FOLLOW, {}),
    (base.STATUS_EDIT, {}),
    (base.STATUS_DELETE, {}),
    (base.LIST_MEMBER_STATUS, {}),
    (base.FILTER_CHANGE, {}),
    (base.ANNOUNCEMENT, {}),
    (base.ANNOUNCEMENT_REACTION, {}),
    (base.ANNOUNCEMENT_REACTION, {"name": "blobcat", "url": "https://m.example/e.png"}),
    (base.ANNOUNCEMENT_DELETE, {}),
    (base.NOTIFICATIONS_MERGED, {}),
    (base.TOKEN_REVOKE, {"token_id": "3"}),
]


@pytest.fixture(scope="module")
def validator() -> PayloadValidator:
    return PayloadValidator.default()


def test_every_published_payload_validates(validator: PayloadValidator) -> None:
    fanout = FanOut(Cast.of("109302139442357034", "109302141267381212", "1"))
    subscribed = fanout.recipient_channels()
    checked: set[str] = set()
    problems = []
    for scenario, params in SEQUENCE:
        plan = fanout.build(scenario, "MscTag", subscribed, **params)
        for publish in plan.publishes:
            message = json.loads(publish.message)
            if "payload" not in message:
                assert publish.event in ("filters_changed", "kill")
                continue
            findings = validator.check_event(
                publish.event,
                message["payload"],
                stream=_stream(publish.channel),
                server_version=VERSION,
            )
            checked.add(publish.event)
            problems += [
                (scenario, publish.channel, publish.event, f.pointer, f.message)
                for f in findings
                if f.severity in ("fail", "warn")
            ]
    assert not problems, problems[:5]
    assert checked >= {
        "update",
        "status.update",
        "delete",
        "notification",
        "conversation",
        "announcement",
        "announcement.reaction",
        "announcement.delete",
        "notifications_merged",
    }


def test_validator_would_catch_a_broken_status(validator: PayloadValidator) -> None:
    fanout = FanOut(Cast.of("1", "2", "1"))
    plan = fanout.build(base.STATUS_PUBLIC, "m", set())
    payload = json.loads(plan.publishes[0].message)["payload"]
    del payload["account"]
    findings = validator.check_event("update", payload, stream="public", server_version=VERSION)
    assert any(f.severity == "fail" for f in findings)
