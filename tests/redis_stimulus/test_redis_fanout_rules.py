"""Rails' fan-out rules as the pure builders apply them (notes §9), and the message encodings."""

from __future__ import annotations

import json

import pytest

from conformance.stimulus import base
from conformance.stimulus.redis_fanout import Cast, FanOut, Snowflakes
from conformance.stimulus.redis_messages import decode_message, encode_message
from conformance.stimulus.redis_tags import hashtag_channels, normalise_tag

A, B, LIST = "1001", "1002", "7"
HOME_A, HOME_B = f"timeline:{A}", f"timeline:{B}"
NOTIF_A = f"timeline:{A}:notifications"


def _fanout() -> FanOut:
    return FanOut(Cast.of(A, B, LIST))


def _all(fanout: FanOut) -> list[str]:
    return fanout.recipient_channels()


def _channels(plan) -> list[tuple[str, str]]:
    return [(p.channel, p.event) for p in plan.publishes]


def test_public_status_full_fan_out_in_rails_order() -> None:
    plan = _fanout().build(base.STATUS_PUBLIC_MEDIA, "m", _all(_fanout()), tag="Tag")
    assert [c for c, _ in _channels(plan)] == [
        HOME_B,
        HOME_A,
        f"timeline:list:{LIST}",
        "timeline:hashtag:tag",
        "timeline:hashtag:tag:local",
        "timeline:public",
        "timeline:public:local",
        "timeline:public:media",
        "timeline:public:local:media",
    ]
    assert {e for _, e in _channels(plan)} == {"update"}


def test_remote_status_only_on_remote_and_global_channels() -> None:
    fanout = _fanout()
    plan = fanout.build(base.STATUS_REMOTE_MEDIA, "m", _all(fanout), tag="t")
    assert [c for c, _ in _channels(plan)] == [
        "timeline:hashtag:t",
        "timeline:public",
        "timeline:public:remote",
        "timeline:public:media",
        "timeline:public:remote:media",
    ]


@pytest.mark.parametrize("scenario", [base.STATUS_UNLISTED, base.STATUS_PRIVATE])
def test_non_public_statuses_stay_off_public_channels(scenario: str) -> None:
    fanout = _fanout()
    plan = fanout.build(scenario, "m", _all(fanout))
    assert [c for c, _ in _channels(plan)] == [HOME_B, HOME_A, f"timeline:list:{LIST}"]


def test_home_list_notification_events_need_the_subscribed_key() -> None:
    fanout = _fanout()
    plan = fanout.build(base.STATUS_MENTION, "m", {"timeline:public"})
    assert _channels(plan) == []  # unlisted mention: every recipient channel is unsubscribed
    plan = fanout.build(base.STATUS_MENTION, "m", {HOME_A})
    # A's user stream (timeline:<A>) also carries notifications: NotifyService checks either key.
    assert _channels(plan) == [(NOTIF_A, "notification"), (HOME_A, "update")]


def test_delete_is_published_whether_or_not_anyone_listens() -> None:
    fanout = _fanout()
    created = fanout.build(base.STATUS_PUBLIC, "m", set(), tag="t")
    assert _channels(created)[:3] == [
        ("timeline:hashtag:t", "update"),
        ("timeline:hashtag:t:local", "update"),
        ("timeline:public", "update"),
    ]
    plan = fanout.build(base.STATUS_DELETE, "m", set(), status_id=created.ids["status"])
    channels = [c for c, _ in _channels(plan)]
    assert channels[:3] == [HOME_B, HOME_A, f"timeline:list:{LIST}"]
    assert "timeline:public:local" in channels
    assert all(json.loads(p.message)["payload"] == created.ids["status"] for p in plan.publishes)


def test_edit_of_a_mention_also_reaches_the_notifications_channel() -> None:
    fanout = _fanout()
    created = fanout.build(base.STATUS_MENTION, "m", _all(fanout))
    plan = fanout.build(base.STATUS_EDIT, "m", _all(fanout), status_id=created.ids["status"])
    assert (NOTIF_A, "status.update") in _channels(plan)
    assert (NOTIF_A, "notification") not in _channels(plan)
    payload = json.loads(plan.publishes[0].message)["payload"]
    assert payload["edited_at"] is not None and "(edited)" in payload["content"]


def test_direct_message_notifies_and_updates_both_conversations() -> None:
    fanout = _fanout()
    plan = fanout.build(base.STATUS_DIRECT, "m", _all(fanout))
    assert _channels(plan) == [
        (HOME_B, "update"),
        (NOTIF_A, "notification"),
        (f"timeline:direct:{A}", "conversation"),
        (HOME_A, "update"),
        (f"timeline:direct:{B}", "conversation"),
    ]
    conversation = plan.bodies["conversation"]
    assert [acc["id"] for acc in conversation["accounts"]] == [B]


def test_reblog_of_own_status_notifies_and_skips_own_home() -> None:
    fanout = _fanout()
    own = fanout.build(base.STATUS_OWN, "m", _all(fanout))
    plan = fanout.build(base.REBLOG, "m", _all(fanout), status_id=own.ids["status"])
    assert _channels(plan) == [
        (HOME_B, "update"),
        (f"timeline:list:{LIST}", "update"),
        (NOTIF_A, "notification"),
    ]
    notification = plan.bodies["notification"]
    assert notification["type"] == "reblog"
    assert notification["status"]["id"] == own.ids["status"]
    assert notification["account"]["id"] == B


def test_filters_changed_goes_to_user_and_system_channels_without_payload() -> None:
    fanout = _fanout()
    plan = fanout.build(base.FILTER_CHANGE, "m", set())
    assert [p.message for p in plan.publishes] == ['{"event":"filters_changed"}'] * 2
    assert [p.channel for p in plan.publishes] == [HOME_A, f"timeline:system:{A}"]


def test_announcement_lifecycle() -> None:
    fanout = _fanout()
    subs = {HOME_A}
    created = fanout.build(base.ANNOUNCEMENT, "m", subs)
    ann = created.ids["announcement"]
    reaction = fanout.build(base.ANNOUNCEMENT_REACTION, "m", subs)
    again = fanout.build(base.ANNOUNCEMENT_REACTION, "m", subs)
    gone = fanout.build(base.ANNOUNCEMENT_DELETE, "m", subs, announcement_id=ann)
    assert json.loads(reaction.publishes[0].message)["payload"] == {
        "name": "👍",
        "count": 1,
        "announcement_id": ann,
    }
    assert json.loads(again.publishes[0].message)["payload"]["count"] == 2
    assert gone.publishes[0].message == f'{{"event":"announcement.delete","payload":"{ann}"}}'
    with pytest.raises(base.StimulusError):
        fanout.build(base.ANNOUNCEMENT_DELETE, "m", subs)  # none left to withdraw


def test_notifications_merged_and_kill() -> None:
    fanout = _fanout()
    merged = fanout.build(base.NOTIFICATIONS_MERGED, "m", {NOTIF_A})
    assert [(p.channel, p.message) for p in merged.publishes] == [
        (NOTIF_A, '{"event":"notifications_merged","payload":"1"}')
    ]
    kill = fanout.build(base.TOKEN_REVOKE, "m", set(), token_id="42")
    assert [(p.channel, p.message) for p in kill.publishes] == [
        ("timeline:access_token:42", '{"event":"kill"}')
    ]


def test_unsupported_scenarios() -> None:
    fanout = _fanout()
    for scenario in (base.MUTED_AUTHOR, base.BLOCKED_AUTHOR, base.TOKEN_REVOKE, "nope"):
        assert fanout.unsupported_reason(scenario)
        with pytest.raises(base.ScenarioUnsupported):
            fanout.build(scenario, "m", set())
    supported = [s for s in base.SCENARIOS if s not in (base.MUTED_AUTHOR, base.BLOCKED_AUTHOR)]
    assert all(fanout.unsupported_reason(s, token_id="1") is None for s in supported)


def test_rails_encodings() -> None:
    update = encode_message("update", {"content": "<p>a & b</p>"})
    assert update == '{"event":"update","payload":{"content":"<p>a & b</p>"}}'
    notification = encode_message("notification", {"content": "<p>a & b</p>"})
    escaped = "\\u003cp\\u003ea \\u0026 b\\u003c/p\\u003e"
    assert notification == '{"event":"notification","payload":{"content":"' + escaped + '"}}'
    assert decode_message(notification)[1] == {"content": "<p>a & b</p>"}
    assert encode_message("announcement", {"t": "café"}) == (
        '{"event":"announcement","payload":{"t":"café"}}'
    )
    assert decode_message('{"event":"kill"}') == ("kill", None, False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("#Café", "cafe"),
        ("FEDIVERSE", "fediverse"),
        ("Ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
        ("Łódź", "lodz"),
        ("日本語", "日本語"),
        ("snake_case·x", "snake_case·x"),
        ("a-b c!", "abc"),
    ],
)
def test_tag_normalisation(raw: str, expected: str) -> None:
    assert normalise_tag(raw) == expected


def test_hashtag_channels() -> None:
    assert hashtag_channels("#Café", local=True) == [
        "timeline:hashtag:cafe",
        "timeline:hashtag:cafe:local",
    ]
    assert hashtag_channels("!!", local=False) == []


def test_snowflakes_are_unique_and_increasing() -> None:
    ids = Snowflakes(clock=lambda: 1_700_000_000.0)
    values = [int(ids()) for _ in range(70_000)]
    assert values == sorted(set(values))
