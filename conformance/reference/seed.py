"""The fixture population of a fresh reference server.

Names follow the recorded captures: alice and bob are local users with full-scope tokens,
carol@remote.example is a remote author; alice owns one (empty) list. No follows or other
relations are seeded, so every scenario sets up what it needs through the REST API, as it would
on a real server.
"""

from __future__ import annotations

from datetime import UTC, datetime

from conformance.reference.store import FULL_SCOPES, Store

REMOTE_DOMAIN = "remote.example"


def seed(store: Store) -> None:
    alice = store.add_account(
        "alice",
        display_name="Alice 🌻",
        note="<p>Gardener, tinkerer.</p>",
        created_at=datetime(2022, 11, 8, tzinfo=UTC),
    )
    bob = store.add_account(
        "bob",
        display_name="Bob",
        note="<p>Just Bob.</p>",
        created_at=datetime(2022, 11, 8, tzinfo=UTC),
    )
    store.add_account(
        "carol",
        REMOTE_DOMAIN,
        display_name="Carol @ Remote",
        note="<p>Photographer. Remote server user.</p>",
        created_at=datetime(2022, 11, 9, tzinfo=UTC),
        shows_application=False,
    )
    store.mint_token(alice.id, FULL_SCOPES)
    store.mint_token(bob.id, FULL_SCOPES)
    store.add_list(alice.id, "Reference list")
