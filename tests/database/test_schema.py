"""The schema check: a database without Mastodon's tables is refused with one line."""

from __future__ import annotations

import psycopg
import pytest
from timing import scaled

from conformance.database import REQUIRED, FixtureWorld, SchemaError, missing_columns
from conformance.database.schema import describe_missing
from conformance.reference.pg.store import load_schema, schema_sql


def _all_present() -> list[tuple[str, str]]:
    return [(t, c) for t, cols in REQUIRED.items() for c in cols]


def test_nothing_missing_when_every_column_is_there() -> None:
    assert missing_columns(_all_present()) == []


def test_a_missing_table_and_a_missing_column_are_named() -> None:
    present = [(t, c) for t, c in _all_present() if t != "mutes" and (t, c) != ("users", "role_id")]
    assert missing_columns(present) == ["users.role_id", "mutes"]


def test_the_refusal_is_one_line_naming_the_fix() -> None:
    line = describe_missing([f"t{i}" for i in range(9)])
    assert "\n" not in line and "and 3 more" in line and "mastodon_schema.sql" in line


def test_the_reference_ddl_declares_every_required_column() -> None:
    ddl = schema_sql()
    for table, columns in REQUIRED.items():
        assert f"CREATE TABLE IF NOT EXISTS {table} (" in ddl
        block = ddl.split(f"CREATE TABLE IF NOT EXISTS {table} (", 1)[1].split(");", 1)[0]
        for column in columns:
            assert f"\n    {column} " in block, f"{table}.{column}"


def test_an_empty_database_is_refused_before_anything_is_written(postgres_url: str) -> None:
    empty = postgres_url.rsplit("/", 1)[0] + "/postgres"
    world = FixtureWorld(empty)
    with pytest.raises(SchemaError) as caught:
        world.seed()
    message = str(caught.value)
    assert message.startswith("--database-url: not a Mastodon database (missing accounts")
    assert "\n" not in message
    assert world.ledger == []


def test_an_unreachable_database_is_one_line() -> None:
    world = FixtureWorld("postgresql://nobody@127.0.0.1:1/none", timeout_s=2)
    with pytest.raises(SchemaError, match=r"^--database-url: cannot use the database: ") as caught:
        world.connect()
    assert "\n" not in str(caught.value)


def test_loading_the_schema_twice_is_harmless(postgres_url: str) -> None:
    load_schema(postgres_url)
    with psycopg.connect(postgres_url) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
    assert set(REQUIRED) <= tables


def test_the_reference_refuses_an_unusable_database_in_one_line() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.reference",
            "serve",
            "--port",
            "0",
            "--database-url",
            "postgresql://nobody@127.0.0.1:1/none",
        ],
        capture_output=True,
        text=True,
        timeout=scaled(60),
    )
    assert done.returncode != 0 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("--database-url: cannot read the database")
