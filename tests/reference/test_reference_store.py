"""The store's query API (docs/ARCHITECTURE.md, "Store query API") and its seed."""

from __future__ import annotations

import re
from datetime import timedelta

from conformance.reference.store import (
    FULL_SCOPES,
    CustomFilter,
    FilterKeyword,
    FilterRule,
    Store,
    TokenInfo,
    utcnow,
)


def _seeded() -> tuple[Store, str, str, str]:
    store = Store.seeded()
    by_name = {a.username: a.id for a in store.accounts.values()}
    return store, by_name["alice"], by_name["bob"], by_name["carol"]


def test_seed_info_lists_alice_then_bob_with_full_scope_tokens() -> None:
    store, alice, bob, _ = _seeded()
    info = store.seed_info()
    assert [a["acct"] for a in info["accounts"]] == ["alice", "bob"]
    assert [a["id"] for a in info["accounts"]] == [alice, bob]
    assert info["lists"] == [{"id": info["lists"][0]["id"], "owner_id": alice}]
    for entry in info["accounts"]:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", entry["token"])
        token_info = store.authenticate(entry["token"])
        assert token_info is not None and token_info.scopes == FULL_SCOPES
    assert info["accounts"][0]["token"] != info["accounts"][1]["token"]


def test_seeded_remote_account_is_carol_at_remote_example() -> None:
    store, _, _, carol = _seeded()
    account = store.accounts[carol]
    assert account.acct == "carol@remote.example" and not account.local


def test_ids_are_increasing_integer_strings() -> None:
    store = Store()
    ids = [store.new_id() for _ in range(50)]
    assert all(i.isdigit() and int(i) > 2**53 for i in ids)
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)
    assert len(set(ids)) == 50


def test_authenticate_returns_token_info() -> None:
    store, alice, _, _ = _seeded()
    store.accounts[alice].chosen_languages = ["en"]
    store.accounts[alice].role_permissions = 0x100000
    token = store.mint_token(alice, {"read:statuses"})
    info = store.authenticate(token.token)
    assert info == TokenInfo(
        token_id=token.id,
        account_id=alice,
        scopes=frozenset({"read:statuses"}),
        chosen_languages=["en"],
        permissions=0x100000,
    )


def test_authenticate_refuses_unknown_revoked_app_only_disabled_suspended() -> None:
    store, alice, bob, _ = _seeded()
    assert store.authenticate("nope") is None
    revoked = store.mint_token(alice)
    assert store.revoke_token(revoked.token) is revoked
    assert store.authenticate(revoked.token) is None
    assert store.revoke_token(revoked.token) is None  # second revoke: nothing to kill
    app_only = store.mint_token(None, {"read"})
    assert store.authenticate(app_only.token) is None
    disabled = store.mint_token(alice)
    store.accounts[alice].disabled = True
    assert store.authenticate(disabled.token) is None
    suspended = store.mint_token(bob)
    store.accounts[bob].suspended = True
    assert store.authenticate(suspended.token) is None


def test_list_owner() -> None:
    store, alice, _, _ = _seeded()
    list_id = store.seed_info()["lists"][0]["id"]
    assert store.list_owner(list_id) == alice
    assert store.list_owner("999999") is None


def test_blocks_mutes_and_domain_blocks() -> None:
    store, alice, bob, carol = _seeded()
    assert not store.blocks_or_mutes_any(alice, [bob, carol])
    store.mute(alice, carol)
    assert store.blocks_or_mutes_any(alice, [bob, carol])
    assert not store.blocks_or_mutes_any(carol, [alice])  # directional
    store.unmute(alice, carol)
    store.block(alice, bob)
    assert store.blocks_or_mutes_any(alice, [bob])
    assert store.is_blocked_by(alice, bob)  # author alice blocks viewer bob
    assert not store.is_blocked_by(bob, alice)
    store.block_domain(alice, "Remote.Example")
    assert store.blocks_domain(alice, "remote.example")
    assert not store.blocks_domain(bob, "remote.example")


def test_active_filters_skip_expired_and_foreign_filters() -> None:
    store, alice, bob, _ = _seeded()
    live = CustomFilter(
        id="11",
        account_id=alice,
        title="TV spoilers",
        context=["home", "public"],
        keywords=[FilterKeyword("1", "spoilers", True), FilterKeyword("2", "tv", False)],
    )
    expired = CustomFilter(
        id="12",
        account_id=alice,
        title="old",
        context=["public"],
        expires_at=utcnow() - timedelta(seconds=1),
    )
    others = CustomFilter(id="13", account_id=bob, title="bob", context=["public"])
    for flt in (live, expired, others):
        store.filters[flt.id] = flt
    assert store.active_filters(alice) == [
        FilterRule(
            id="11",
            title="TV spoilers",
            context=["home", "public"],
            expires_at=None,
            filter_action="warn",
            keywords=[("spoilers", True), ("tv", False)],
        )
    ]


def test_active_filter_expiry_is_iso8601_with_milliseconds() -> None:
    store, alice, _, _ = _seeded()
    store.filters["1"] = CustomFilter(
        id="1",
        account_id=alice,
        title="t",
        context=["home"],
        expires_at=utcnow() + timedelta(hours=1),
    )
    (rule,) = store.active_filters(alice)
    assert rule.expires_at is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", rule.expires_at)


def test_feed_access_defaults_to_public_and_reads_settings() -> None:
    store = Store()
    assert store.feed_access("local_live_feed_access") == "--- public\n"
    store.settings["local_live_feed_access"] = "--- disabled\n"
    assert store.feed_access("local_live_feed_access") == "--- disabled\n"


def test_unfollow_removes_account_from_the_followers_lists() -> None:
    store, alice, bob, _ = _seeded()
    list_id = store.seed_info()["lists"][0]["id"]
    store.follow(alice, bob)
    store.lists[list_id].member_ids.append(bob)
    store.unfollow(alice, bob)
    assert store.lists[list_id].member_ids == []
