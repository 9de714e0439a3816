"""``--database-url``: the suite's own fixture world in a Mastodon-schema PostgreSQL.

A bare streaming server (Mastodon's Node process, or a replacement) reads accounts, tokens,
lists, mutes, blocks, domain blocks and filters from PostgreSQL and never talks to Rails. To run
every case against it without a Rails side, the suite writes those rows itself
(``world.FixtureWorld``): marked, recorded as they are created, and deleted at the end, also on
failure or Ctrl-C. ``schema.REQUIRED`` names every table and column it reads or writes; a
database that lacks one is refused with one line before anything is written.
"""

from conformance.database.schema import REQUIRED, SchemaError, missing_columns
from conformance.database.world import FixtureWorld, WorldInfo

__all__ = ["REQUIRED", "FixtureWorld", "SchemaError", "WorldInfo", "missing_columns"]
