"""The schemas against everything real Mastodon 4.8 delivered: zero false failures.

Every payload of every conformant capture must pass with no finding at all (not even an info:
the schemas document every key 4.8 sends); the two deliberately malformed captures must fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from payload_examples import MALFORMED_CAPTURES, delivered

from conformance.payloads import PayloadValidator
from conformance.payloads.samples import DeliveredPayload

SERVER_VERSION = "4.8.0-alpha.1"


@pytest.fixture(scope="module")
def payloads(captures_dir: Path) -> list[DeliveredPayload]:
    return delivered(captures_dir)


def test_captures_deliver_every_entity_event(payloads: list[DeliveredPayload]) -> None:
    events = {item.event for item in payloads}
    assert {
        "update",
        "status.update",
        "notification",
        "conversation",
        "announcement",
        "announcement.reaction",
        "announcement.delete",
        "delete",
        "notifications_merged",
    } <= events
    statuses = [p for p in payloads if p.event in ("update", "status.update")]
    assert len(statuses) >= 50


def test_every_conformant_payload_validates_cleanly(
    payloads: list[DeliveredPayload], capture_verdicts: dict[str, str]
) -> None:
    validator = PayloadValidator.default()
    judged = 0
    problems = []
    for item in payloads:
        if capture_verdicts.get(item.capture) != "conformant":
            continue
        judged += 1
        findings = validator.check_event(
            item.event, item.payload, stream=item.stream, server_version=SERVER_VERSION
        )
        problems += [(item.capture, item.event, f) for f in findings]
    assert judged > 100
    assert problems == []


@pytest.mark.parametrize("capture", sorted(MALFORMED_CAPTURES))
def test_malformed_captures_fail(
    capture: str, payloads: list[DeliveredPayload], capture_verdicts: dict[str, str]
) -> None:
    assert capture_verdicts[capture] == "nonconformant"
    validator = PayloadValidator.default()
    fails = [
        (item.event, finding)
        for item in payloads
        if item.capture == capture
        for finding in validator.check_event(item.event, item.payload, stream=item.stream)
        if finding.severity == "fail"
    ]
    events = {event for event, _ in fails}
    assert "update" in events  # the hollow {"id": ...} Status payloads
    if capture.startswith("ws-30"):
        assert "delete" in events  # a JSON number where a string id is due


def test_rails_side_payloads_validate(captures_dir: Path) -> None:
    """The entity payloads published to Redis (what Rails renders) pass too."""
    import json

    validator = PayloadValidator.default()
    checked = 0
    for jsonl in sorted(captures_dir.glob("*.jsonl")):
        if jsonl.stem in MALFORMED_CAPTURES or jsonl.stem.startswith("crash-"):
            continue
        for line in jsonl.read_text(encoding="utf-8").splitlines()[1:]:
            record = json.loads(line)
            if record.get("kind") != "redis-publish":
                continue
            message = json.loads(record["message"])
            payload = message.get("payload")
            if not isinstance(payload, dict):
                continue
            checked += 1
            assert validator.check_event(message["event"], payload) == [], jsonl.stem
    assert checked > 50
