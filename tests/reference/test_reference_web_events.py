"""Non-status events: notifications, filters_changed, announcements and kill (§9 of the notes)."""

from __future__ import annotations

import json

from reference_web_support import web_harness


async def test_favourite_notifies_the_author_rendered_for_the_author() -> None:
    async with web_harness() as h:
        status = await h.post("like me")
        await h.subscribe(f"timeline:{h.alice.id}")  # `user` stream: notifications go out too
        h.bus.clear()
        await h.ok("POST", f"/api/v1/statuses/{status['id']}/favourite", as_="bob")
        assert h.bus.channels() == [f"timeline:{h.alice.id}:notifications"]
        (message,) = h.bus.messages(f"timeline:{h.alice.id}:notifications")
        payload = message["payload"]
        assert message["event"] == "notification" and payload["type"] == "favourite"
        assert payload["group_key"] == f"ungrouped-{payload['id']}"
        assert payload["account"]["id"] == h.bob.id
        assert payload["status"]["id"] == status["id"]
        assert payload["status"]["favourites_count"] == 1
        assert payload["status"]["pinned"] is False  # rendered for alice, her own status
        listed = await h.ok("GET", "/api/v1/notifications")
        assert listed == [payload]


async def test_notification_is_not_published_without_a_subscription() -> None:
    async with web_harness() as h:
        status = await h.post("like me")
        h.bus.clear()
        await h.ok("POST", f"/api/v1/statuses/{status['id']}/favourite", as_="bob")
        assert h.bus.published == []
        assert len(await h.ok("GET", "/api/v1/notifications")) == 1


async def test_follow_notification_has_no_status() -> None:
    async with web_harness() as h:
        await h.subscribe(f"timeline:{h.alice.id}:notifications")
        rel = await h.ok("POST", f"/api/v1/accounts/{h.alice.id}/follow", as_="bob")
        assert rel["following"] is True and rel["id"] == h.alice.id
        (message,) = h.bus.messages(f"timeline:{h.alice.id}:notifications")
        assert message["payload"]["type"] == "follow" and "status" not in message["payload"]
        h.bus.clear()
        await h.ok("POST", f"/api/v1/accounts/{h.alice.id}/follow", as_="bob")
        assert h.bus.published == []  # already following: no second notification


async def test_blocked_sender_does_not_notify() -> None:
    async with web_harness() as h:
        await h.ok("POST", f"/api/v1/accounts/{h.bob.id}/block")
        await h.subscribe(f"timeline:{h.alice.id}:notifications")
        status = await h.post("hi")
        h.bus.clear()
        code, _ = await h.call("POST", f"/api/v1/statuses/{status['id']}/favourite", as_="bob")
        assert code == 404  # alice blocks bob: her statuses are hidden from him
        assert h.bus.published == []


async def test_filter_changes_publish_filters_changed_without_payload() -> None:
    async with web_harness() as h:
        expected = [
            (f"timeline:{h.alice.id}", '{"event":"filters_changed"}'),
            (f"timeline:system:{h.alice.id}", '{"event":"filters_changed"}'),
        ]
        flt = await h.ok(
            "POST",
            "/api/v2/filters",
            json_body={
                "title": "spoilers",
                "context": ["home", "public"],
                "keywords_attributes": [{"keyword": "spoiler", "whole_word": False}],
            },
        )
        assert h.bus.published == expected
        h.bus.clear()
        await h.ok("PUT", f"/api/v2/filters/{flt['id']}", json_body={"title": "renamed"})
        assert h.bus.published == expected
        h.bus.clear()
        await h.ok("DELETE", f"/api/v2/filters/{flt['id']}")
        assert h.bus.published == expected


async def test_home_render_carries_filter_results_of_the_viewer() -> None:
    async with web_harness() as h:
        await h.ok(
            "POST",
            "/api/v2/filters",
            json_body={
                "title": "TV",
                "context": ["home"],
                "filter_action": "warn",
                "keywords_attributes": [{"keyword": "spoilers", "whole_word": True}],
            },
        )
        await h.subscribe(f"timeline:{h.alice.id}")
        h.bus.clear()
        await h.post("big Spoilers ahead")
        (home,) = h.bus.messages(f"timeline:{h.alice.id}")
        (result,) = home["payload"]["filtered"]
        assert result["keyword_matches"] == ["Spoilers"] and result["status_matches"] is None
        assert set(result["filter"]) == {"id", "title", "context", "expires_at", "filter_action"}
        (public,) = h.bus.messages("timeline:public")
        assert "filtered" not in public["payload"]  # the streaming side adds it for public


async def test_announcements_go_to_subscribed_local_users() -> None:
    async with web_harness() as h:
        await h.subscribe(f"timeline:{h.alice.id}")
        created = await h.ok(
            "POST", "/_reference/announcements", as_=None, json_body={"text": "Maintenance"}
        )
        assert h.bus.channels() == [f"timeline:{h.alice.id}"]  # bob is not streaming
        (message,) = h.bus.messages(f"timeline:{h.alice.id}")
        assert message["event"] == "announcement" and message["payload"] == created
        assert "read" not in created
        h.bus.clear()
        path = f"/api/v1/announcements/{created['id']}/reactions/👍"
        await h.ok("PUT", path, as_="bob")
        await h.ok("DELETE", path, as_="bob")
        reactions = [m["payload"] for m in h.bus.messages(f"timeline:{h.alice.id}")]
        assert reactions == [
            {"name": "👍", "count": 1, "announcement_id": created["id"]},
            {"name": "👍", "count": 0, "announcement_id": created["id"]},
        ]
        listed = await h.ok("GET", "/api/v1/announcements")
        assert listed[0]["read"] is False and listed[0]["reactions"] == []
        h.bus.clear()
        await h.ok("DELETE", f"/_reference/announcements/{created['id']}", as_=None)
        message = json.dumps(
            {"event": "announcement.delete", "payload": created["id"]}, separators=(",", ":")
        )
        assert h.bus.published == [(f"timeline:{h.alice.id}", message)]


async def test_revoking_a_token_kills_its_streams() -> None:
    async with web_harness() as h:
        token = h.store.token_by_value(h.tokens["bob"])
        assert token is not None
        await h.ok("POST", "/oauth/revoke", as_=None, data={"token": h.tokens["bob"]})
        assert h.bus.published == [(f"timeline:access_token:{token.id}", '{"event":"kill"}')]
        code, body = await h.call("GET", "/api/v1/accounts/verify_credentials", as_="bob")
        assert code == 401 and body == {"error": "The access token is invalid"}
        h.bus.clear()
        await h.ok("POST", "/oauth/revoke", as_=None, data={"token": "unknown"})
        assert h.bus.published == []


async def test_disable_and_suspend_kill_the_accounts_streams() -> None:
    async with web_harness() as h:
        for action in ("disable", "suspend"):
            h.bus.clear()
            state = await h.ok("POST", f"/_reference/accounts/{h.bob.id}/{action}", as_=None)
            assert state[f"{action}d" if action == "disable" else "suspended"] is True
            assert h.bus.published == [(f"timeline:system:{h.bob.id}", '{"event":"kill"}')]
        assert h.store.authenticate(h.tokens["bob"]) is None
        await h.ok("POST", f"/_reference/accounts/{h.bob.id}/enable", as_=None)
        await h.ok("POST", f"/_reference/accounts/{h.bob.id}/unsuspend", as_=None)
        assert h.store.authenticate(h.tokens["bob"]) is not None
