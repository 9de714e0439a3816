"""Mastodon.py (the installed 2.3.3) against the reference server, through its own API only.

Mastodon.py finds the streaming host through ``/api/v1/instance/`` (with the trailing slash Rails
tolerates), reads SSE with its own LF-only parser that raises on any line without ``": "`` and,
up to 2.2.0, on the empty event after ``:thump\\n\\n`` (halcy/Mastodon.py#434). These tests open
its streams in background threads, cause events with its REST calls, and check that each
listener callback got the right object and that no ``on_abort`` or unknown event happened.

Client quirk, not a server fault: ``status.update`` arrives in ``on_status_update`` as a plain
``AttribAccessDict`` (ids as strings, dates unparsed), not a ``Status``: Mastodon.py's type map is
keyed ``status_update`` but looked up with the wire name ``status.update``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from interop_support import EventLog, Seen, Served, reference_server
from mastodon import Mastodon, StreamListener
from timing import scaled

HEARTBEAT_S = 1
ROUND_S = 1.0  # how long one post may take to reach every stream before another is posted
DEADLINE_S = 10.0
TAG = "InteropPy"


class RecordingListener(StreamListener):
    """Writes every callback Mastodon.py makes into the shared log, labelled by stream."""

    def __init__(self, log: EventLog, sub: str) -> None:
        self.log = log
        self.sub = sub

    def on_update(self, status: Any) -> None:
        self.log.add(self.sub, "update", status)

    def on_status_update(self, status: Any) -> None:
        self.log.add(self.sub, "status.update", status)

    def on_delete(self, status_id: Any) -> None:
        self.log.add(self.sub, "delete", status_id)

    def on_notification(self, notification: Any) -> None:
        self.log.add(self.sub, "notification", notification)

    def on_conversation(self, conversation: Any) -> None:
        self.log.add(self.sub, "conversation", conversation)

    def on_unknown_event(self, name: str, unknown_event: Any = None) -> None:
        self.log.add(self.sub, f"unknown:{name}", unknown_event)

    def on_abort(self, err: Exception) -> None:
        self.log.add(self.sub, "abort", err)

    def handle_heartbeat(self) -> None:
        self.log.add(self.sub, "heartbeat")


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with reference_server("--heartbeat", str(HEARTBEAT_S)) as line:
        yield line


def client(served: Served, account: dict[str, str]) -> Mastodon:
    """A client as an app would build one; any warning Mastodon.py raises fails the test."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", module=r"mastodon(\.|$)")
        return Mastodon(
            access_token=account["token"], api_base_url=served.url, request_timeout=scaled(10)
        )


@contextmanager
def streams(
    log: EventLog, openers: dict[str, Callable[[RecordingListener], Any]]
) -> Iterator[dict[str, Any]]:
    """Open each stream (``run_async=True``), wait for its first comment (``:)``), close on exit.

    On exit every handle is closed and its thread must end: a parser that died on a heartbeat
    would already have left an ``abort`` in the log, which the tests assert against.
    """
    handles: dict[str, Any] = {}
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", module=r"mastodon(\.|$)")
            for sub, opener in openers.items():
                handles[sub] = opener(RecordingListener(log, sub))
        opened = log.wait_for(
            lambda entries: all(
                any(e.sub == sub and e.kind == "heartbeat" for e in entries) for sub in openers
            ),
            DEADLINE_S,
        )
        assert opened, f"not every stream sent its first comment: {kinds(log)}"
        yield handles
    finally:
        for handle in handles.values():
            handle.close()
        for sub, handle in handles.items():
            handle.join(HEARTBEAT_S * 3 + 2.0)  # close() takes effect at the next byte
            assert not handle.is_alive(), f"{sub}: stream thread still running after close()"


def kinds(log: EventLog) -> list[tuple[str, str]]:
    return [(e.sub, e.kind) for e in log.snapshot() if e.kind != "heartbeat"]


def same_id(value: Any) -> Callable[[Any], bool]:
    return lambda payload: payload is not None and str(payload) == str(value)


def with_id(value: Any) -> Callable[[Any], bool]:
    return lambda payload: payload is not None and str(payload["id"]) == str(value)


def arrived(log: EventLog, subs: list[str], kind: str, match: Callable[[Any], bool]) -> bool:
    return log.wait_for(
        lambda entries: all(
            any(e.sub == sub and e.kind == kind and match(e.payload) for e in entries)
            for sub in subs
        ),
        DEADLINE_S,
    )


def post_until_everywhere(log: EventLog, subs: list[str], post: Callable[[int], Any]) -> Any:
    """Post (round n) until one status reaches every stream. Mastodon acknowledges nothing, so
    a stream's first comment does not prove its channel subscription is live yet."""
    end = time.monotonic() + DEADLINE_S
    round_no = 0
    while time.monotonic() < end:
        round_no += 1
        status = post(round_no)

        def everywhere(entries: list[Seen], status_id: Any = status["id"]) -> bool:
            return all(
                any(
                    e.sub == sub and e.kind == "update" and str(e.payload["id"]) == str(status_id)
                    for e in entries
                )
                for sub in subs
            )

        if log.wait_for(everywhere, ROUND_S):
            return status
    pytest.fail(f"no posted status reached all of {subs}: {kinds(log)}")


def assert_clean(log: EventLog) -> None:
    bad = [(e.sub, e.kind, e.payload) for e in log.snapshot() if e.kind == "abort"]
    bad += [(e.sub, e.kind, e.payload) for e in log.snapshot() if e.kind.startswith("unknown:")]
    assert not bad, f"Mastodon.py reported errors or unknown events: {bad}"


def test_discovery_version_and_health(served: Served) -> None:
    alice = client(served, served.alice)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", module=r"mastodon(\.|$)")
        assert alice.retrieve_mastodon_version(fail_hard=True) == "4.8.0-alpha.1"
        assert alice.mastodon_api_version == 10
        assert alice.instance_v1().urls.streaming_api == served.streaming_url
        assert alice.instance_v2().configuration.urls.streaming == served.streaming_url
        assert alice.stream_healthy() is True


def test_status_lifecycle_on_user_public_and_hashtag(served: Served) -> None:
    alice = client(served, served.alice)
    bob = client(served, served.bob)
    log = EventLog()
    subs = ["user", "public", "public:local", "hashtag"]
    openers: dict[str, Callable[[RecordingListener], Any]] = {
        "user": lambda listener: alice.stream_user(listener, run_async=True),
        "public": lambda listener: alice.stream_public(listener, run_async=True),
        "public:local": lambda listener: alice.stream_public(listener, run_async=True, local=True),
        "hashtag": lambda listener: alice.stream_hashtag(TAG, listener, run_async=True),
    }
    with streams(log, openers):
        status = post_until_everywhere(
            log,
            subs,
            lambda n: alice.status_post(f"Mastodon.py interop {n} #{TAG.lower()}"),
        )
        for entry in log.find("user", "update", with_id(status["id"])):
            assert entry.payload.account.acct == "alice"
            assert "Mastodon.py interop" in entry.payload.content
            assert entry.payload.tags[0].name == TAG.lower()

        bob.status_favourite(status["id"])
        assert arrived(
            log,
            ["user"],
            "notification",
            lambda n: n.type == "favourite" and str(n.status.id) == str(status["id"]),
        ), kinds(log)
        (favourite,) = log.find("user", "notification", lambda n: n.type == "favourite")
        assert favourite.payload.account.acct == "bob"

        alice.status_update(status["id"], f"edited by Mastodon.py #{TAG.lower()}")
        assert arrived(log, subs, "status.update", with_id(status["id"])), kinds(log)
        for sub in subs:
            (edited,) = log.find(sub, "status.update", with_id(status["id"]))
            assert "edited by Mastodon.py" in edited.payload["content"]
            assert edited.payload["edited_at"] is not None

        alice.status_delete(status["id"])
        assert arrived(log, subs, "delete", same_id(status["id"])), kinds(log)
        for sub in subs:
            assert len(log.find(sub, "delete", same_id(status["id"]))) == 1
    assert_clean(log)


def test_heartbeats_do_not_break_the_sse_parser(served: Served) -> None:
    """``:thump\\n\\n`` between events: 2.3.3 must treat it as a heartbeat, not a bad event."""
    alice = client(served, served.alice)
    log = EventLog()
    openers = {"public:local": lambda listener: alice.stream_local(listener, run_async=True)}
    with streams(log, openers) as handles:
        beats = log.wait_for(
            lambda entries: sum(e.kind == "heartbeat" for e in entries) >= 3,
            HEARTBEAT_S * 3 + DEADLINE_S,
        )
        assert beats, "fewer than ':)' and two ':thump' comments arrived"
        assert handles["public:local"].is_receiving()
        post_until_everywhere(
            log, ["public:local"], lambda n: alice.status_post(f"after heartbeats {n}")
        )
    assert_clean(log)


def test_list_stream_delivers_member_statuses(served: Served) -> None:
    alice = client(served, served.alice)
    bob = client(served, served.bob)
    list_id = served.lists[0]["id"]
    alice.account_follow(served.bob["id"])
    if not any(str(a.id) == served.bob["id"] for a in alice.list_accounts(list_id)):
        alice.list_accounts_add(list_id, [served.bob["id"]])
    log = EventLog()
    openers = {"list": lambda listener: alice.stream_list(list_id, listener, run_async=True)}
    with streams(log, openers):
        status = post_until_everywhere(
            log, ["list"], lambda n: bob.status_post(f"for alice's list {n}")
        )
        (entry,) = log.find("list", "update", with_id(status["id"]))
        assert entry.payload.account.acct == "bob"
        bob.status_delete(status["id"])
        assert arrived(log, ["list"], "delete", same_id(status["id"])), kinds(log)
    assert_clean(log)


def test_direct_message_gives_conversation_and_mention(served: Served) -> None:
    alice = client(served, served.alice)
    bob = client(served, served.bob)
    log = EventLog()
    openers: dict[str, Callable[[RecordingListener], Any]] = {
        "direct": lambda listener: bob.stream_direct(listener, run_async=True),
        "user": lambda listener: bob.stream_user(listener, run_async=True),
    }
    with streams(log, openers):
        status = None
        for round_no in range(1, int(DEADLINE_S / ROUND_S) + 1):
            status = alice.status_post(f"@bob direct {round_no}", visibility="direct")
            if log.wait_for(
                lambda entries, sid=status["id"]: any(
                    e.kind == "conversation" and str(e.payload.last_status.id) == str(sid)
                    for e in entries
                ),
                ROUND_S,
            ):
                break
        assert status is not None
        (conversation,) = log.find(
            "direct", "conversation", lambda c: str(c.last_status.id) == str(status["id"])
        )
        assert [a.acct for a in conversation.payload.accounts] == ["alice"]
        assert conversation.payload.last_status.visibility == "direct"
        assert arrived(
            log,
            ["user"],
            "notification",
            lambda n: n.type == "mention" and str(n.status.id) == str(status["id"]),
        ), kinds(log)
    assert_clean(log)
