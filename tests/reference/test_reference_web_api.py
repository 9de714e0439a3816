"""REST round trips: discovery, errors, lists, filters, lookups, timelines, reference extras."""

from __future__ import annotations

from aiohttp import FormData
from reference_web_support import web_harness


async def test_instance_endpoints_advertise_streaming_url_and_version() -> None:
    async with web_harness() as h:
        v1 = await h.ok("GET", "/api/v1/instance", as_=None)
        v2 = await h.ok("GET", "/api/v2/instance", as_=None)
    assert v1["urls"]["streaming_api"] == "ws://mastodon.test"
    assert v2["configuration"]["urls"]["streaming"] == "ws://mastodon.test"
    assert v1["version"] == v2["version"] == "4.8.0-alpha.1"
    assert v2["api_versions"]["mastodon"] >= 7
    assert v2["domain"] == "mastodon.test"


async def test_errors_have_mastodon_shape_and_status() -> None:
    async with web_harness() as h:
        assert await h.call("GET", "/api/v1/accounts/verify_credentials", as_=None) == (
            401,
            {"error": "The access token is invalid"},
        )
        assert await h.call("GET", "/api/v1/accounts/verify_credentials", token="bogus") == (
            401,
            {"error": "The access token is invalid"},
        )
        minted = await h.ok(
            "POST",
            "/_reference/tokens",
            as_=None,
            json_body={"account_id": h.alice.id, "scopes": "read"},
        )
        code, body = await h.call(
            "POST", "/api/v1/statuses", token=minted["access_token"], json_body={"status": "x"}
        )
        assert (code, body) == (403, {"error": "This action is outside the authorized scopes"})
        assert (await h.call("GET", "/api/v1/statuses/1"))[0] == 404
        code, body = await h.call("POST", "/api/v1/statuses", json_body={"status": ""})
        assert code == 422 and body["error"].startswith("Validation failed")
        code, _ = await h.call(
            "POST", "/api/v1/statuses", json_body={"status": "x", "visibility": "nope"}
        )
        assert code == 422


async def test_minted_scoped_and_app_only_tokens() -> None:
    async with web_harness() as h:
        scoped = await h.ok(
            "POST",
            "/_reference/tokens",
            as_=None,
            json_body={"account_id": h.bob.id, "scopes": ["read:notifications"]},
        )
        info = h.store.authenticate(scoped["access_token"])
        assert info is not None and info.scopes == {"read:notifications"}
        assert info.token_id == scoped["id"] and info.account_id == h.bob.id
        app_only = await h.ok(
            "POST", "/_reference/tokens", as_=None, json_body={"account_id": None, "scopes": "read"}
        )
        assert h.store.authenticate(app_only["access_token"]) is None
        code, _ = await h.call(
            "GET", "/api/v1/accounts/verify_credentials", token=app_only["access_token"]
        )
        assert code == 422


async def test_form_encoded_bodies_are_accepted() -> None:
    async with web_harness() as h:
        status = await h.ok(
            "POST",
            "/api/v1/statuses",
            data={"status": "form post", "visibility": "unlisted", "language": "de"},
        )
        assert status["visibility"] == "unlisted" and status["language"] == "de"
        flt = await h.ok(
            "POST",
            "/api/v2/filters",
            data=[
                ("title", "Form filter"),
                ("context[]", "home"),
                ("context[]", "public"),
                ("filter_action", "hide"),
                ("keywords_attributes[][keyword]", "one"),
                ("keywords_attributes[][whole_word]", "false"),
                ("keywords_attributes[][keyword]", "two"),
            ],
        )
        assert flt["context"] == ["home", "public"] and flt["filter_action"] == "hide"
        assert [(k["keyword"], k["whole_word"]) for k in flt["keywords"]] == [
            ("one", False),
            ("two", True),
        ]
        rules = h.store.active_filters(h.alice.id)
        assert rules[0].keywords == [("one", False), ("two", True)]


async def test_filter_crud_and_keyword_destroy() -> None:
    async with web_harness() as h:
        created = await h.ok(
            "POST",
            "/api/v2/filters",
            json_body={
                "title": "x",
                "context": ["public"],
                "expires_in": 3600,
                "keywords_attributes": [{"keyword": "a"}, {"keyword": "b"}],
            },
        )
        assert created["expires_at"] is not None and created["statuses"] == []
        keyword_id = created["keywords"][0]["id"]
        updated = await h.ok(
            "PUT",
            f"/api/v2/filters/{created['id']}",
            json_body={"keywords_attributes": [{"id": keyword_id, "_destroy": True}]},
        )
        assert [k["keyword"] for k in updated["keywords"]] == ["b"]
        assert await h.ok("GET", "/api/v2/filters") == [updated]
        code, _ = await h.call("GET", f"/api/v2/filters/{created['id']}", as_="bob")
        assert code == 404
        code, _ = await h.call("POST", "/api/v2/filters", json_body={"title": "no context"})
        assert code == 422
        await h.ok("DELETE", f"/api/v2/filters/{created['id']}")
        assert h.store.active_filters(h.alice.id) == []


async def test_list_crud_and_members() -> None:
    async with web_harness() as h:
        lists = await h.ok("GET", "/api/v1/lists")
        assert [lst["title"] for lst in lists] == ["Reference list"]
        created = await h.ok("POST", "/api/v1/lists", json_body={"title": "Mine"})
        assert created == {
            "id": created["id"],
            "title": "Mine",
            "replies_policy": "list",
            "exclusive": False,
        }
        await h.ok("PUT", f"/api/v1/lists/{created['id']}", json_body={"title": "Renamed"})
        await h.ok(
            "POST", f"/api/v1/lists/{created['id']}/accounts", data=[("account_ids[]", h.bob.id)]
        )
        members = await h.ok("GET", f"/api/v1/lists/{created['id']}/accounts")
        assert [m["id"] for m in members] == [h.bob.id]
        await h.ok(
            "DELETE",
            f"/api/v1/lists/{created['id']}/accounts",
            json_body={"account_ids": [h.bob.id]},
        )
        assert await h.ok("GET", f"/api/v1/lists/{created['id']}/accounts") == []
        code, _ = await h.call("GET", f"/api/v1/lists/{created['id']}", as_="bob")
        assert code == 404
        await h.ok("DELETE", f"/api/v1/lists/{created['id']}")
        assert h.store.list_owner(created["id"]) is None


async def test_lookup_and_verify_credentials() -> None:
    async with web_harness() as h:
        assert (await h.ok("GET", "/api/v1/accounts/lookup?acct=bob"))["id"] == h.bob.id
        remote = await h.ok("GET", "/api/v1/accounts/lookup?acct=carol@remote.example")
        assert remote["id"] == h.carol.id
        assert (await h.call("GET", "/api/v1/accounts/lookup?acct=nobody"))[0] == 404
        me = await h.ok("GET", "/api/v1/accounts/verify_credentials")
        assert me["id"] == h.alice.id and "source" in me and "role" in me


async def test_public_and_tag_timelines() -> None:
    async with web_harness() as h:
        first = await h.post("one #Tag")
        await h.post("two", visibility="unlisted")
        remote = await h.ok(
            "POST", "/_reference/remote_statuses", as_=None, json_body={"text": "three #tag"}
        )
        public = await h.ok("GET", "/api/v1/timelines/public", as_=None)
        assert [s["id"] for s in public] == [remote["id"], first["id"]]
        local = await h.ok("GET", "/api/v1/timelines/public?local=true", as_=None)
        assert [s["id"] for s in local] == [first["id"]]
        tagged = await h.ok("GET", "/api/v1/timelines/tag/TAG", as_=None)
        assert [s["id"] for s in tagged] == [remote["id"], first["id"]]
        assert "favourited" not in tagged[0]


async def test_capabilities_and_feed_access_settings() -> None:
    async with web_harness() as h:
        caps = await h.ok("GET", "/_reference/capabilities", as_=None)
        assert {"remote_statuses", "announcements", "tokens", "account_state"} <= set(
            caps["capabilities"]
        )
        await h.ok(
            "PUT",
            "/_reference/settings/local_live_feed_access",
            as_=None,
            json_body={"value": "disabled"},
        )
        assert h.store.feed_access("local_live_feed_access") == "--- disabled\n"
        code, _ = await h.call(
            "PUT", "/_reference/settings/bogus", as_=None, json_body={"value": "disabled"}
        )
        assert code == 404
        state = await h.ok(
            "PATCH",
            f"/_reference/accounts/{h.alice.id}",
            as_=None,
            json_body={"chosen_languages": ["en"], "role_permissions": 1048576},
        )
        info = h.store.authenticate(h.tokens["alice"])
        assert info is not None and info.chosen_languages == ["en"]
        assert info.permissions == 1048576 and state["chosen_languages"] == ["en"]
        await h.ok(
            "PATCH",
            f"/_reference/accounts/{h.alice.id}",
            as_=None,
            json_body={"chosen_languages": None},
        )
        info = h.store.authenticate(h.tokens["alice"])
        assert info is not None and info.chosen_languages is None


async def test_remote_status_language_can_be_null() -> None:
    async with web_harness() as h:
        status = await h.ok(
            "POST",
            "/_reference/remote_statuses",
            as_=None,
            json_body={"text": "no language", "language": None},
        )
        assert status["language"] is None
        default = await h.ok(
            "POST", "/_reference/remote_statuses", as_=None, json_body={"text": "default"}
        )
        assert default["language"] == "en"


async def test_media_upload_show_and_describe() -> None:
    async with web_harness() as h:
        form = FormData()
        form.add_field("file", b"\x89PNG", filename="pixel.png", content_type="image/png")
        form.add_field("description", "pixel")
        media = await h.ok("POST", "/api/v2/media", data=form)
        assert media["type"] == "image" and media["url"].endswith(".png")
        assert await h.ok("GET", f"/api/v1/media/{media['id']}") == media
        described = await h.ok(
            "PUT", f"/api/v1/media/{media['id']}", json_body={"description": "d"}
        )
        assert described["description"] == "d"
        assert (await h.call("GET", f"/api/v1/media/{media['id']}", as_="bob"))[0] == 404
        code, body = await h.call("POST", "/api/v2/media", data={"description": "no file"})
        assert code == 422 and "error" in body


async def test_list_members_can_be_removed_with_query_parameters() -> None:
    async with web_harness() as h:
        list_id = h.store.seed_info()["lists"][0]["id"]
        await h.ok(
            "POST", f"/api/v1/lists/{list_id}/accounts", json_body={"account_ids": [h.bob.id]}
        )
        await h.ok("DELETE", f"/api/v1/lists/{list_id}/accounts?account_ids[]={h.bob.id}")
        assert h.store.lists[list_id].member_ids == []
