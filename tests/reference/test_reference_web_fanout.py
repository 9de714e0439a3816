"""Status fan-out: which bus channels get which message (mastodon-streaming.md §9).

Each test posts through the REST API and compares the published (channel, event) pairs with
what Rails' FanOutOnWriteService / FeedManager / RemoveStatusService publish.
"""

from __future__ import annotations

import json

from aiohttp import FormData
from reference_web_support import Harness, web_harness

VIEWER_KEYS = {"favourited", "reblogged", "muted", "bookmarked", "filtered"}


def _events(h: Harness) -> list[tuple[str, str]]:
    return [(c, json.loads(m)["event"]) for c, m in h.bus.published]


async def test_public_local_status_with_hashtag_goes_to_public_local_and_tag_channels() -> None:
    async with web_harness() as h:
        await h.subscribe(f"timeline:{h.alice.id}")
        status = await h.post("Hello #Fediverse!")
        assert sorted(_events(h)) == sorted(
            [
                (f"timeline:{h.alice.id}", "update"),
                ("timeline:hashtag:fediverse", "update"),
                ("timeline:hashtag:fediverse:local", "update"),
                ("timeline:public", "update"),
                ("timeline:public:local", "update"),
            ]
        )
        (public,) = h.bus.messages("timeline:public")
        assert public["payload"]["id"] == status["id"]
        assert not VIEWER_KEYS & public["payload"].keys()  # anonymous render
        assert "pinned" not in public["payload"]
        assert public["payload"]["quote_approval"]["current_user"] == "denied"
        (home,) = h.bus.messages(f"timeline:{h.alice.id}")
        assert home["payload"].keys() >= VIEWER_KEYS
        assert home["payload"]["filtered"] == [] and home["payload"]["pinned"] is False


async def test_messages_are_compact_json_with_raw_utf8() -> None:
    async with web_harness() as h:
        await h.post("Café ☕ #Café")
        _channel, message = h.bus.published[0]
        assert ", " not in message[:40] and message.startswith('{"event":"update","payload":{')
        assert "☕" in message and "\\u" not in message
        assert "timeline:hashtag:cafe" in h.bus.channels()


async def test_home_delivery_needs_a_subscription_but_feed_still_records_it() -> None:
    async with web_harness() as h:
        await h.ok("POST", f"/api/v1/accounts/{h.alice.id}/follow", as_="bob")
        h.bus.clear()
        status = await h.post("not streamed to homes")
        assert f"timeline:{h.bob.id}" not in h.bus.channels()
        assert f"timeline:{h.alice.id}" not in h.bus.channels()
        home = await h.ok("GET", "/api/v1/timelines/home", as_="bob")
        assert [s["id"] for s in home] == [status["id"]]


async def test_follower_home_is_rendered_for_the_follower() -> None:
    async with web_harness() as h:
        await h.ok("POST", f"/api/v1/accounts/{h.alice.id}/follow", as_="bob")
        await h.subscribe(f"timeline:{h.bob.id}")
        status = await h.post("for my followers")
        await h.ok("POST", f"/api/v1/statuses/{status['id']}/favourite", as_="bob")
        (update,) = h.bus.messages(f"timeline:{h.bob.id}")
        payload = update["payload"]
        assert update["event"] == "update" and payload["id"] == status["id"]
        assert payload["favourited"] is False and "pinned" not in payload  # not bob's own status
        rest = await h.ok("GET", f"/api/v1/statuses/{status['id']}", as_="bob")
        assert rest["favourited"] is True  # REST render is current; same keys as the stream
        assert rest.keys() == payload.keys()


async def test_rest_and_stream_render_the_same_json_for_the_same_viewer() -> None:
    async with web_harness() as h:
        await h.subscribe(f"timeline:{h.alice.id}")
        created = await h.post("same #json @bob", visibility="public")
        (home,) = h.bus.messages(f"timeline:{h.alice.id}")
        shown = await h.ok("GET", f"/api/v1/statuses/{created['id']}")
        assert home["payload"] == created == shown
        anonymous = await h.ok("GET", f"/api/v1/statuses/{created['id']}", as_=None)
        (public,) = h.bus.messages("timeline:public")
        assert public["payload"] == anonymous


async def test_unlisted_and_private_never_reach_public_or_hashtag_channels() -> None:
    async with web_harness() as h:
        await h.ok("POST", f"/api/v1/accounts/{h.alice.id}/follow", as_="bob")
        await h.subscribe(f"timeline:{h.bob.id}", f"timeline:{h.alice.id}")
        h.bus.clear()
        await h.post("quiet #tag", visibility="unlisted")
        await h.post("followers #tag", visibility="private")
        assert set(h.bus.channels()) == {f"timeline:{h.alice.id}", f"timeline:{h.bob.id}"}


async def test_private_status_reaches_followers_not_mentioned_strangers_homes() -> None:
    async with web_harness() as h:
        await h.subscribe(f"timeline:{h.bob.id}", f"timeline:{h.bob.id}:notifications")
        await h.post("psst @bob", visibility="private")
        assert h.bus.channels() == [f"timeline:{h.bob.id}:notifications"]
        (note,) = h.bus.messages(f"timeline:{h.bob.id}:notifications")
        assert note["event"] == "notification" and note["payload"]["type"] == "mention"


async def test_direct_status_publishes_conversation_for_each_participant() -> None:
    async with web_harness() as h:
        await h.subscribe(
            f"timeline:direct:{h.alice.id}",
            f"timeline:direct:{h.bob.id}",
            f"timeline:{h.bob.id}:notifications",
        )
        status = await h.post("@bob secret", visibility="direct")
        assert "timeline:public" not in h.bus.channels()
        (for_bob,) = h.bus.messages(f"timeline:direct:{h.bob.id}")
        (for_alice,) = h.bus.messages(f"timeline:direct:{h.alice.id}")
        assert for_bob["event"] == "conversation"
        assert for_bob["payload"]["last_status"]["id"] == status["id"]
        assert [a["id"] for a in for_bob["payload"]["accounts"]] == [h.alice.id]
        assert [a["id"] for a in for_alice["payload"]["accounts"]] == [h.bob.id]
        assert for_bob["payload"]["unread"] is True and for_alice["payload"]["unread"] is False
        assert "filtered" in for_bob["payload"]["last_status"]
        conversations = await h.ok("GET", "/api/v1/conversations", as_="bob")
        assert conversations == [for_bob["payload"]]


async def test_media_status_also_goes_to_media_channels() -> None:
    async with web_harness() as h:
        form = FormData()
        form.add_field("file", b"\x89PNG fake", filename="t.png", content_type="image/png")
        form.add_field("description", "a tulip")
        media = await h.ok("POST", "/api/v2/media", data=form)
        assert media["type"] == "image" and media["description"] == "a tulip"
        await h.post("look", media_ids=[media["id"]])
        assert set(h.bus.channels()) == {
            "timeline:public",
            "timeline:public:local",
            "timeline:public:media",
            "timeline:public:local:media",
        }


async def test_remote_status_goes_to_remote_channels_and_no_local_hashtag() -> None:
    async with web_harness() as h:
        await h.ok("POST", f"/api/v1/accounts/{h.carol.id}/follow", as_="alice")
        await h.subscribe(f"timeline:{h.alice.id}")
        h.bus.clear()
        status = await h.ok(
            "POST",
            "/_reference/remote_statuses",
            as_=None,
            json_body={"text": "tulips #Photography", "media": True},
        )
        assert status["account"]["acct"] == "carol@remote.example"
        assert sorted(h.bus.channels()) == sorted(
            [
                f"timeline:{h.alice.id}",
                "timeline:hashtag:photography",
                "timeline:public",
                "timeline:public:remote",
                "timeline:public:media",
                "timeline:public:remote:media",
            ]
        )


async def test_reply_to_someone_else_reaches_hashtags_but_not_public_streams() -> None:
    async with web_harness() as h:
        parent = await h.post("parent", as_="bob")
        h.bus.clear()
        await h.post("reply #tag", in_reply_to_id=parent["id"])
        assert set(h.bus.channels()) == {"timeline:hashtag:tag", "timeline:hashtag:tag:local"}
        h.bus.clear()
        own = await h.post("own thread")
        await h.post("self reply", in_reply_to_id=own["id"])
        assert "timeline:public" in h.bus.channels()


async def test_edit_publishes_status_update_on_the_same_channels() -> None:
    async with web_harness() as h:
        await h.subscribe(f"timeline:{h.alice.id}")
        status = await h.post("first #Tag")
        created = set(h.bus.channels("update"))
        h.bus.clear()
        edited = await h.ok(
            "PUT", f"/api/v1/statuses/{status['id']}", json_body={"status": "second #Tag"}
        )
        assert set(h.bus.channels("status.update")) == created
        assert set(h.bus.channels()) == created
        assert edited["edited_at"] is not None and "second" in edited["content"]
        (public,) = h.bus.messages("timeline:public")
        assert public["payload"]["edited_at"] == edited["edited_at"]


async def test_edit_sends_status_update_to_mentioned_users_notification_channel() -> None:
    async with web_harness() as h:
        status = await h.post("hi @bob")
        await h.subscribe(f"timeline:{h.bob.id}:notifications")
        h.bus.clear()
        await h.ok("PUT", f"/api/v1/statuses/{status['id']}", json_body={"status": "hey @bob"})
        (message,) = h.bus.messages(f"timeline:{h.bob.id}:notifications")
        assert message["event"] == "status.update"
        assert message["payload"]["filtered"] == []


async def test_delete_publishes_the_bare_id_everywhere_the_status_went() -> None:
    async with web_harness() as h:
        await h.ok("POST", f"/api/v1/accounts/{h.alice.id}/follow", as_="bob")
        list_id = h.store.seed_info()["lists"][0]["id"]
        await h.ok("POST", f"/api/v1/accounts/{h.bob.id}/follow", as_="alice")
        await h.ok(
            "POST", f"/api/v1/lists/{list_id}/accounts", json_body={"account_ids": [h.bob.id]}
        )
        status = await h.post("bye #Tag", as_="bob")
        h.bus.clear()
        body = await h.ok("DELETE", f"/api/v1/statuses/{status['id']}", as_="bob")
        assert body["text"] == "bye #Tag" and "content" not in body
        expected = {
            f"timeline:{h.bob.id}",
            f"timeline:{h.alice.id}",
            f"timeline:list:{list_id}",
            "timeline:hashtag:tag",
            "timeline:hashtag:tag:local",
            "timeline:public",
            "timeline:public:local",
        }
        assert set(h.bus.channels()) == expected
        assert {m for _, m in h.bus.published} == {
            json.dumps({"event": "delete", "payload": status["id"]}, separators=(",", ":"))
        }
        status_code, _ = await h.call("GET", f"/api/v1/statuses/{status['id']}")
        assert status_code == 404


async def test_list_delivery_is_rendered_for_the_list_owner() -> None:
    async with web_harness() as h:
        list_id = h.store.seed_info()["lists"][0]["id"]
        await h.ok("POST", f"/api/v1/accounts/{h.bob.id}/follow", as_="alice")
        await h.ok(
            "POST", f"/api/v1/lists/{list_id}/accounts", json_body={"account_ids": [h.bob.id]}
        )
        await h.subscribe(f"timeline:list:{list_id}")
        status = await h.post("to the list", as_="bob", visibility="unlisted")
        (message,) = h.bus.messages(f"timeline:list:{list_id}")
        assert message["event"] == "update" and message["payload"]["id"] == status["id"]
        assert "filtered" in message["payload"] and "pinned" not in message["payload"]
        listed = await h.ok("GET", f"/api/v1/timelines/list/{list_id}")
        assert [s["id"] for s in listed] == [status["id"]]


async def test_blocked_or_muted_author_is_not_delivered_to_the_blockers_home() -> None:
    async with web_harness() as h:
        await h.ok("POST", f"/api/v1/accounts/{h.bob.id}/follow", as_="alice")
        await h.ok("POST", f"/api/v1/accounts/{h.bob.id}/mute", as_="alice")
        await h.subscribe(f"timeline:{h.alice.id}")
        await h.post("muted", as_="bob")
        assert f"timeline:{h.alice.id}" not in h.bus.channels()
        assert "timeline:public" in h.bus.channels()  # the streaming side filters public


async def test_reblog_goes_to_homes_only_and_notifies_the_author() -> None:
    async with web_harness() as h:
        original = await h.post("reblog me", as_="bob")
        await h.ok("POST", f"/api/v1/accounts/{h.alice.id}/follow", as_="bob")
        await h.subscribe(f"timeline:{h.alice.id}", f"timeline:{h.bob.id}:notifications")
        h.bus.clear()
        reblog = await h.ok("POST", f"/api/v1/statuses/{original['id']}/reblog")
        assert reblog["reblog"]["id"] == original["id"] and reblog["content"] == ""
        assert set(h.bus.channels()) == {
            f"timeline:{h.alice.id}",
            f"timeline:{h.bob.id}:notifications",
        }
        (note,) = h.bus.messages(f"timeline:{h.bob.id}:notifications")
        assert note["payload"]["type"] == "reblog"
        assert note["payload"]["status"]["id"] == original["id"]
        h.bus.clear()
        await h.ok("POST", f"/api/v1/statuses/{original['id']}/unreblog")
        assert h.bus.messages(f"timeline:{h.alice.id}") == [
            {"event": "delete", "payload": reblog["id"]}
        ]
