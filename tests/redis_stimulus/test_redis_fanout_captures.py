"""The Redis driver publishes, channel by channel, what the captures recorded Rails publishing.

Each recorded capture published the messages of a few scenarios on the channels its stream
listened to. Building the same scenarios with the capture's fixture ids (alice, bob, list 1,
carol@remote.example) and keeping only the channels the capture published on must give the same
sequence of channels and events, and payloads of the same shape (keys and JSON types, not the
fixture values). The fan-out on other channels is what makes the driver useful; it is checked in
``test_redis_fanout_rules.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.stimulus import base
from conformance.stimulus.redis_fanout import Cast, FanOut
from conformance.stimulus.redis_render import Person

ALICE = "109302139442357034"
BOB = "109302141267381212"
CAROL = "109310222451116537"
HOST = "mastodon.example"
EMOJI = "https://mastodon.example/system/custom_emojis/images/000/000/042/original/blobcat.png"


def _cast(*, b_remote: bool = False) -> Cast:
    cast = Cast.of(ALICE, BOB, "1", local_host=HOST, remote_id=CAROL)
    if b_remote:  # sse-12's list member is carol
        return Cast(cast.a, cast.remote, cast.remote, cast.list_id, HOST)
    return cast


def _captured(captures_dir: Path, name: str) -> list[tuple[str, str, Any]]:
    out = []
    for line in (captures_dir / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("kind") == "redis-publish":
            message = json.loads(record["message"])
            out.append((record["channel"], message["event"], message.get("payload")))
    return out


def _shape(value: Any) -> Any:
    """Keys and JSON types; lists by their first element (empty lists match any list).

    ``null`` matches any type when compared: the captures' fixtures leave some nullable keys
    null (``edited_at`` of an edit) where a live server sets them.
    """
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def _shape_diff(expected: Any, actual: Any, path: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        diffs = []
        for key in sorted(expected.keys() - actual.keys()):
            diffs.append(f"{path}/{key}: missing")
        for key in sorted(actual.keys() - expected.keys()):
            diffs.append(f"{path}/{key}: unexpected")
        for key in expected.keys() & actual.keys():
            diffs += _shape_diff(expected[key], actual[key], f"{path}/{key}")
        return diffs
    if isinstance(expected, list) and isinstance(actual, list):
        if expected and actual:
            return _shape_diff(expected[0], actual[0], f"{path}/0")
        return []
    if expected == actual or "null" in (expected, actual):  # a nullable key, set or not
        return []
    return [f"{path}: {expected} != {actual}"]


Step = tuple[str, dict[str, Any]]


def _run(cast: Cast, steps: list[Step]) -> list[tuple[str, str, Any]]:
    """Build ``steps`` in order; a ``status_id`` like ``"$0"`` names an earlier step's status."""
    fanout = FanOut(cast)
    subscribed = fanout.recipient_channels()
    made: list[str] = []
    out: list[tuple[str, str, Any]] = []
    for scenario, params in steps:
        params = dict(params)
        ref = params.get("status_id")
        if isinstance(ref, str) and ref.startswith("$"):
            params["status_id"] = made[int(ref[1:])]
        plan = fanout.build(scenario, "Fediverse", subscribed, **params)
        made.append(plan.ids.get("status", ""))
        for publish in plan.publishes:
            message = json.loads(publish.message)
            assert message["event"] == publish.event
            out.append((publish.channel, publish.event, message.get("payload")))
    return out


OWN = (base.STATUS_OWN, {"visibility": "public"})
REMOTE_MEDIA = (base.STATUS_REMOTE_MEDIA, {})
EDIT_0 = (base.STATUS_EDIT, {"status_id": "$0"})
DELETE_0 = (base.STATUS_DELETE, {"status_id": "$0"})

#: capture -> (cast, scenario steps)
SCRIPTS: dict[str, tuple[Cast, list[Step]]] = {
    "sse-03-public": (
        _cast(),
        [OWN, REMOTE_MEDIA, EDIT_0, DELETE_0],
    ),
    "sse-04-public-only-media": (_cast(), [REMOTE_MEDIA, EDIT_0, DELETE_0]),
    "sse-05-public-local": (_cast(), [OWN, EDIT_0, DELETE_0]),
    "sse-06-public-local-only-media": (
        _cast(),
        [(base.STATUS_OWN, {"visibility": "public", "media": True}), EDIT_0, DELETE_0],
    ),
    "sse-07-public-remote": (_cast(), [REMOTE_MEDIA, EDIT_0, DELETE_0]),
    "sse-08-public-remote-only-media": (_cast(), [REMOTE_MEDIA, EDIT_0, DELETE_0]),
    "sse-09-hashtag": (_cast(), [OWN, EDIT_0, DELETE_0]),
    "sse-10-hashtag-local": (_cast(), [OWN, EDIT_0, DELETE_0]),
    "sse-11-hashtag-normalized": (
        _cast(),
        [(base.STATUS_OWN, {"visibility": "public", "tag": "Café"}), EDIT_0, DELETE_0],
    ),
    "sse-12-list": (
        _cast(b_remote=True),
        [(base.STATUS_PUBLIC, {"media": True}), EDIT_0, DELETE_0],
    ),
    "sse-13-direct": (_cast(), [(base.STATUS_DIRECT, {})]),
    "ws-22-direct": (_cast(), [(base.STATUS_DIRECT, {})]),
    "sse-20-kill-access-token": (_cast(), [OWN, (base.TOKEN_REVOKE, {"token_id": "1"})]),
    "sse-01-user": (
        _cast(),
        [
            OWN,
            REMOTE_MEDIA,
            (base.REBLOG, {"status_id": "$1"}),
            EDIT_0,
            (base.STATUS_MENTION, {"author": "remote", "visibility": "public"}),
            (base.FOLLOW, {"author": "remote"}),
            (base.ANNOUNCEMENT, {}),
            (base.ANNOUNCEMENT_REACTION, {}),
            (base.ANNOUNCEMENT_REACTION, {"name": "blobcat", "url": EMOJI}),
            (base.ANNOUNCEMENT_DELETE, {}),
            (base.FILTER_CHANGE, {}),
            (base.NOTIFICATIONS_MERGED, {}),
            DELETE_0,
        ],
    ),
}

#: Known fixture artefacts: sse-12's edit is of alice's own status (not on her list in reality),
#: so the keys that depend on the author being the viewer or local are not compared there.
AUTHOR_DEPENDENT = {"sse-12-list": {"application", "pinned", "noindex", "roles"}}


def _strip(shape: Any, keys: set[str]) -> Any:
    if isinstance(shape, dict):
        return {k: _strip(v, keys) for k, v in shape.items() if k not in keys}
    if isinstance(shape, list):
        return [_strip(v, keys) for v in shape]
    return shape


@pytest.mark.parametrize("capture", sorted(SCRIPTS))
def test_channels_events_and_shapes_match_capture(captures_dir: Path, capture: str) -> None:
    cast, steps = SCRIPTS[capture]
    recorded = _captured(captures_dir, capture)
    assert recorded, f"{capture} has no redis-publish records"
    channels = {channel for channel, _, _ in recorded}
    built = [entry for entry in _run(cast, steps) if entry[0] in channels]

    assert [(c, e) for c, e, _ in built] == [(c, e) for c, e, _ in recorded]
    ignore = AUTHOR_DEPENDENT.get(capture, set())
    for index, ((channel, event, want), (_, _, got)) in enumerate(
        zip(recorded, built, strict=True)
    ):
        diffs = _shape_diff(_strip(_shape(want), ignore), _strip(_shape(got), ignore))
        assert not diffs, f"{capture} #{index} {channel} {event}: {diffs}"


def test_shape_diff_detects_a_missing_key() -> None:
    assert _shape_diff(_shape({"a": 1, "b": None}), _shape({"a": 2})) == ["/b: missing"]
    assert _shape_diff(_shape({"a": "x"}), _shape({"a": 1})) == ["/a: str != number"]
    assert _shape_diff(_shape({"a": "x"}), _shape({"a": None})) == []


def test_remote_cast_member_is_not_local() -> None:
    cast = _cast(b_remote=True)
    assert isinstance(cast.b, Person) and not cast.b.local


# --- remote statuses: what the driver publishes itself, with or without a database ----------

REMOTE_CAPTURES = ("sse-07-public-remote", "sse-08-public-remote-only-media")


def _world_cast() -> Cast:
    """The cast a ``--database-url`` run gets: the world's remote account (its own username on
    ``remote.example``), with the capture's ids so the channels are comparable."""
    from conformance.database.world import WorldAccount, WorldInfo
    from conformance.stimulus.redis_world import cast_of

    info = WorldInfo(
        run_id="0",
        a=WorldAccount(ALICE, "msc_0_a"),
        b=WorldAccount(BOB, "msc_0_b"),
        remote=WorldAccount(CAROL, "msc_0_remote", "remote.example"),
        list_id="1",
        blocked_domain="0.blocked.example",
        tokens={},
    )
    return cast_of(info, HOST)


@pytest.mark.parametrize("capture", REMOTE_CAPTURES)
def test_remote_status_of_a_database_world_matches_capture(
    captures_dir: Path, capture: str
) -> None:
    recorded = _captured(captures_dir, capture)
    channels = {channel for channel, _, _ in recorded}
    built = [e for e in _run(_world_cast(), [REMOTE_MEDIA, EDIT_0, DELETE_0]) if e[0] in channels]
    assert [(c, e) for c, e, _ in built] == [(c, e) for c, e, _ in recorded]
    for (channel, event, want), (_, _, got) in zip(recorded, built, strict=True):
        assert not _shape_diff(_shape(want), _shape(got)), f"{capture} {channel} {event}"
        if isinstance(got, dict):  # the streaming server's local test: username == acct
            assert got["account"]["acct"] == "msc_0_remote@remote.example"


@pytest.mark.parametrize("cast", [_cast(), _world_cast()], ids=["captures", "database-world"])
@pytest.mark.parametrize(
    ("scenario", "media"), [(base.STATUS_REMOTE, False), (base.STATUS_REMOTE_MEDIA, True)]
)
def test_remote_status_channels_are_rails_broadcast_channels(
    cast: Cast, scenario: str, media: bool
) -> None:
    """FanOutOnWriteService for a remote public status: hashtag (never ``:local``), public,
    ``public:remote`` (+ media twins); no home, list or notification channel."""
    channels = [c for c, _, _ in _run(cast, [(scenario, {})])]
    expected = ["timeline:hashtag:fediverse", "timeline:public", "timeline:public:remote"]
    if media:
        expected += ["timeline:public:media", "timeline:public:remote:media"]
    assert channels == expected
