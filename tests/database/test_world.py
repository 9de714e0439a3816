"""The fixture world: marked rows, what the streaming side reads from them, and full cleanup."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from conformance.database import FixtureWorld, WorldInfo
from conformance.database.world import TOKEN_ROLES
from conformance.reference.pg import PgStreamingStore

TABLES = (
    "accounts",
    "users",
    "oauth_access_tokens",
    "lists",
    "mutes",
    "blocks",
    "account_domain_blocks",
    "custom_filters",
    "custom_filter_keywords",
)


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


@pytest.fixture
def world(postgres_url: str) -> Iterator[FixtureWorld]:
    made = FixtureWorld(postgres_url)
    try:
        yield made
    finally:
        made.cleanup()


@pytest.fixture
def store(postgres_url: str) -> Iterator[PgStreamingStore]:
    made = PgStreamingStore(postgres_url)
    try:
        yield made
    finally:
        made.close()


def test_seeded_rows_are_marked_with_the_run_id(world: FixtureWorld, postgres_url: str) -> None:
    info = world.seed()
    assert {info.a.username, info.b.username, info.remote.username} == {
        f"msc_{world.run_id}_{r}" for r in ("a", "b", "remote")
    }
    assert info.remote.acct.endswith("@remote.example") and info.a.domain is None
    with psycopg.connect(postgres_url) as conn:
        emails = [r[0] for r in conn.execute("SELECT email FROM users ORDER BY id")]
    assert all(e.startswith(f"msc_{world.run_id}_") for e in emails)
    assert "secret" not in repr(info) and info.tokens["a"] not in repr(info)


def test_the_streaming_side_reads_tokens_with_their_scopes(
    world: FixtureWorld, store: PgStreamingStore
) -> None:
    info = world.seed()
    for role, (owner, scopes) in TOKEN_ROLES.items():
        found = store.authenticate(info.tokens[role])
        if role == "revoked":
            assert found is None
            continue
        assert found is not None, role
        assert found.scopes == frozenset(scopes.split())
        assert found.account_id == (info.a.id if owner == "a" else info.b.id)
        assert found.token_id == info.token_ids[role]
    assert store.authenticate("not-a-token") is None


def test_lists_relations_domain_blocks_and_filters(
    world: FixtureWorld, store: PgStreamingStore
) -> None:
    info: WorldInfo = world.seed()
    assert store.list_owner(info.list_id) == info.a.id
    assert store.list_owner("abc") is None and store.list_owner("999999999") is None
    assert store.blocks_domain(info.a.id, info.blocked_domain)
    assert not store.blocks_or_mutes_any(info.a.id, [info.b.id, info.remote.id])
    world.relate("mute", info.a.id, info.b.id)
    world.relate("block", info.a.id, info.remote.id)
    assert store.blocks_or_mutes_any(info.a.id, [info.b.id])
    assert store.blocks_or_mutes_any(info.a.id, [info.remote.id])
    assert (info.a.id, info.b.id) in store.mutes and (info.a.id, info.b.id) not in store.blocks
    assert store.is_blocked_by(info.a.id, info.remote.id)
    assert not store.is_blocked_by(info.remote.id, info.a.id)
    world.add_filter(info.a.id, "second", "spoiler")
    rules = store.active_filters(info.a.id)
    assert [r.title for r in rules] == [f"msc_{world.run_id}_filter", "second"]
    assert rules[1].keywords == [("spoiler", True)] and rules[1].filter_action == "warn"
    assert store.feed_access("local_live_feed_access") == "--- public\n"


def test_revoke_sets_revoked_at_and_returns_the_kill_channel_id(
    world: FixtureWorld, store: PgStreamingStore
) -> None:
    info = world.seed()
    assert store.authenticate(info.tokens["revocable"]) is not None
    assert world.revoke("revocable") == info.token_ids["revocable"]
    assert store.authenticate(info.tokens["revocable"]) is None


def test_suspended_accounts_disabled_users_and_roles_as_mastodon(
    world: FixtureWorld, store: PgStreamingStore, postgres_url: str
) -> None:
    info = world.seed()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        role = conn.execute(
            "INSERT INTO user_roles (permissions) VALUES (%s) RETURNING id", (0x100000,)
        ).fetchone()[0]
        conn.execute(
            "UPDATE users SET role_id = %s, chosen_languages = %s WHERE account_id = %s",
            (role, ["en"], int(info.a.id)),
        )
        got = store.authenticate(info.tokens["a"])
        assert got is not None and got.permissions == 0x100000 and got.chosen_languages == ["en"]
        conn.execute("UPDATE users SET disabled = true WHERE account_id = %s", (int(info.b.id),))
        assert store.authenticate(info.tokens["b"]) is None
        conn.execute("UPDATE accounts SET suspended_at = now() WHERE id = %s", (int(info.a.id),))
        assert store.authenticate(info.tokens["a"]) is None
        conn.execute("UPDATE users SET role_id = NULL")
        conn.execute("DELETE FROM user_roles WHERE id = %s", (role,))


def test_cleanup_removes_everything_even_rows_outside_the_ledger(postgres_url: str) -> None:
    before = _counts(postgres_url)
    world = FixtureWorld(postgres_url)
    info = world.seed()
    world.relate("mute", info.a.id, info.b.id)
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # a row nobody recorded
        conn.execute(
            "INSERT INTO blocks (account_id, target_account_id, created_at, updated_at) "
            "VALUES (%s, %s, now(), now())",
            (int(info.remote.id), int(info.a.id)),
        )
    assert _counts(postgres_url) != before
    assert world.cleanup() == []
    assert _counts(postgres_url) == before
    assert world.cleanup() == []  # idempotent


def test_cleanup_after_a_failure_halfway_through_seeding(postgres_url: str) -> None:
    before = _counts(postgres_url)
    world = FixtureWorld(postgres_url)
    world.connect()
    world._account("a", None)
    with pytest.raises(psycopg.Error):  # a duplicate username: the unique index refuses it
        world._account("a", None)
    assert world.cleanup() == []
    assert _counts(postgres_url) == before


def test_cleanup_is_registered_with_atexit_until_it_ran(postgres_url: str) -> None:
    import atexit

    world = FixtureWorld(postgres_url)
    calls: list[object] = []
    original = atexit.register
    try:
        atexit.register = lambda fn, *a, **k: calls.append(fn) or fn  # type: ignore[assignment]
        world.seed()
    finally:
        atexit.register = original
    assert calls == [world.cleanup]
    world.cleanup()
    assert world._atexit is False


def _status(author_id: str, acct: str) -> dict:
    return {
        "id": "1",
        "content": "<p>hello</p>",
        "language": "en",
        "mentions": [],
        "account": {"id": author_id, "username": acct.split("@")[0], "acct": acct},
    }


def test_the_reference_filters_public_statuses_from_the_database(
    world: FixtureWorld, store: PgStreamingStore
) -> None:
    """What the streaming side drops, read from PostgreSQL; the ``ignore-mutes`` mutant does not
    (so the bare run's muted-author case can fail)."""
    from conformance.reference import faults
    from conformance.reference.streaming.filtering import FeedAccess, FilterCache, filter_status

    info = world.seed()
    world.relate("mute", info.a.id, info.b.id)

    def shown(status: dict) -> bool:
        kept = filter_status(
            status,
            store=store,
            viewer_id=info.a.id,
            chosen_languages=None,
            access=FeedAccess(),
            cache=FilterCache(),
        )
        return kept is not None

    muted = _status(info.b.id, info.b.username)
    assert not shown(muted)
    assert not shown(_status(info.remote.id, f"someone@{info.blocked_domain}"))
    plain = _status(info.remote.id, info.remote.acct)
    assert shown(plain)
    kept = filter_status(
        plain,
        store=store,
        viewer_id=info.a.id,
        chosen_languages=None,
        access=FeedAccess(),
        cache=FilterCache(),
    )
    assert kept is not None and kept["filtered"] == []
    try:
        faults.install({"ignore-mutes"})
        assert shown(muted)
    finally:
        faults.install(())


def test_a_relation_deleted_between_batches_is_gone_and_forgotten(
    world: FixtureWorld, store: PgStreamingStore
) -> None:
    """--max-connections batches: the redis driver's rewind deletes the mute it made."""
    info = world.seed()
    row = world.relate("mute", info.a.id, info.b.id)
    assert store.blocks_or_mutes_any(info.a.id, [info.b.id])
    world.delete_row("mutes", row)
    assert not store.blocks_or_mutes_any(info.a.id, [info.b.id])
    assert ("mutes", row) not in world.ledger
    with pytest.raises(ValueError):
        world.delete_row("mutes", row)
