"""The reference streaming side reading Mastodon's PostgreSQL, as ``streaming/index.js`` does.

``serve --database-url URL`` gives the streaming half a ``PgStreamingStore`` instead of the
in-memory store: tokens, lists, feed-access settings, blocks, mutes, domain blocks and keyword
filters then come from the database (the same queries as Mastodon's Node server), so a suite that
seeds the database itself can drive the reference exactly like a bare Mastodon streaming server.
``init-db`` loads ``mastodon_schema.sql`` (the subset of Mastodon's schema those queries need)
into an empty database.
"""

from conformance.reference.pg.store import PgStreamingStore, load_schema

__all__ = ["PgStreamingStore", "load_schema"]
