"""The fixture world: marked rows in a Mastodon-schema PostgreSQL, created and removed by one run.

What a bare streaming server needs to serve the whole plan: two local accounts with users (A, the
viewer; B, whom A follows and lists) and one remote account (R), tokens with the scopes the cases
ask for (full for A and B, ``read:notifications``, ``read:statuses``, ``profile``, a revocable one
and an already revoked one), a list owned by A, a domain block and a keyword filter of A; mutes,
blocks and further filters are added while the run goes (``mute``, ``block``, ``add_filter``) and a
token is revoked the way Doorkeeper does it (``revoke``: ``revoked_at`` set; the caller publishes
``kill``).

Every row is marked: usernames and e-mails start with ``msc_<run id>_``, titles and domains carry
the run id, account ids are fresh Snowflake-style ids. Each insert is recorded in a ledger the
moment it succeeds, and ``cleanup()`` deletes the ledger in reverse order, then sweeps whatever
still references the run's accounts (so a row recorded nowhere cannot outlive the run). It is
called from the session's ``finally`` and, should the process stop before that, from ``atexit``.
Calls are blocking (psycopg's synchronous API, autocommit, every statement under a timeout); the
async driver runs them in a worker thread.
"""

from __future__ import annotations

import atexit
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from conformance.database.schema import (
    COLUMNS_SQL,
    REQUIRED,
    SchemaError,
    describe_missing,
    missing_columns,
)

log = logging.getLogger(__name__)

FULL_SCOPES = "read write follow push"
#: token role -> scopes (``None``: the role's account token, full scopes). Roles follow
#: ``stimulus.base.SetupInfo.tokens``; ``a``/``b`` are the two accounts' own tokens.
TOKEN_ROLES: dict[str, tuple[str, str]] = {
    "a": ("a", FULL_SCOPES),
    "b": ("b", FULL_SCOPES),
    "scope:read:notifications": ("a", "read:notifications"),
    "scope:read:statuses": ("a", "read:statuses"),
    "scope:profile": ("a", "profile"),
    "revocable": ("a", "read"),
    "revoked": ("a", FULL_SCOPES),
}
REMOTE_DOMAIN = "remote.example"
#: Relations the streaming server reads, with the two account columns each sweep clears.
_RELATION_TABLES = ("mutes", "blocks")


@dataclass(frozen=True, slots=True)
class WorldAccount:
    id: str
    username: str
    domain: str | None = None

    @property
    def acct(self) -> str:
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


@dataclass(frozen=True, slots=True)
class WorldInfo:
    """What ``seed()`` created. ``tokens`` holds secrets: never log it."""

    run_id: str
    a: WorldAccount
    b: WorldAccount
    remote: WorldAccount
    list_id: str
    blocked_domain: str
    tokens: dict[str, str] = field(repr=False)
    token_ids: dict[str, str] = field(default_factory=dict)


def _snowflake() -> int:
    """A Mastodon-style id: milliseconds << 16 | 16 random bits."""
    return (int(time.time() * 1000) << 16) | secrets.randbits(16)


class FixtureWorld:
    """One run's rows; ``seed()`` once, relation calls any number of times, ``cleanup()`` always."""

    def __init__(self, url: str, *, timeout_s: float = 10.0, run_id: str | None = None) -> None:
        self._url = url
        self._timeout_s = timeout_s
        self.run_id = run_id or secrets.token_hex(4)
        self.prefix = f"msc_{self.run_id}_"
        self._conn: Any = None
        self._lock = threading.Lock()
        self.ledger: list[tuple[str, int]] = []
        self.account_ids: list[int] = []
        self.info: WorldInfo | None = None
        self._atexit = False

    # --- connection and schema -----------------------------------------------------------------

    def connect(self) -> None:
        """Open the connection and refuse a database without Mastodon's tables (``SchemaError``)."""
        import psycopg

        try:
            self._conn = psycopg.connect(
                self._url, autocommit=True, connect_timeout=max(1, int(self._timeout_s))
            )
            self._conn.execute(f"SET statement_timeout = {int(self._timeout_s * 1000)}")
            rows = self._conn.execute(COLUMNS_SQL, (list(REQUIRED),)).fetchall()
        except psycopg.Error as exc:
            self.close()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SchemaError(f"--database-url: cannot use the database: {first}") from exc
        missing = missing_columns(rows)
        if missing:
            self.close()
            raise SchemaError(describe_missing(missing))

    def _exec(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self._conn is None:
            raise SchemaError("--database-url: the fixture world is not connected")
        with self._lock:
            cursor = self._conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        """INSERT one row, RETURNING its id, and record it in the ledger at once."""
        columns = ", ".join(values)
        marks = ", ".join(["%s"] * len(values))
        rows = self._exec(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id",
            tuple(values.values()),
        )
        row_id = int(rows[0][0])
        self.ledger.append((table, row_id))
        return row_id

    # --- the world -----------------------------------------------------------------------------

    def seed(self) -> WorldInfo:
        """Create the accounts, users, tokens, list, domain block and filter of this run."""
        if self._conn is None:
            self.connect()
        if not self._atexit:
            atexit.register(self.cleanup)
            self._atexit = True
        a = self._account("a", None)
        b = self._account("b", None)
        remote = self._account("remote", REMOTE_DOMAIN)
        users = {"a": self._user(a), "b": self._user(b)}
        tokens: dict[str, str] = {}
        token_ids: dict[str, str] = {}
        for role, (owner, scopes) in TOKEN_ROLES.items():
            value = secrets.token_urlsafe(32)
            token_ids[role] = str(
                self._insert(
                    "oauth_access_tokens",
                    {
                        "token": value,
                        "resource_owner_id": users[owner],
                        "scopes": scopes,
                        "created_at": _now_sql(),
                        "revoked_at": _now_sql() if role == "revoked" else None,
                    },
                )
            )
            tokens[role] = value
        list_id = self._insert(
            "lists",
            {
                "account_id": int(a.id),
                "title": f"{self.prefix}list",
                "created_at": _now_sql(),
                "updated_at": _now_sql(),
            },
        )
        blocked_domain = f"{self.run_id}.blocked.example"
        self._insert(
            "account_domain_blocks",
            {
                "account_id": int(a.id),
                "domain": blocked_domain,
                "created_at": _now_sql(),
                "updated_at": _now_sql(),
            },
        )
        # A filter whose keyword no status of the run contains: the streaming server's filter
        # query runs for A on every public update, and appends "filtered": [].
        self.add_filter(a.id, f"{self.prefix}filter", f"{self.prefix}nevermatches")
        self.info = WorldInfo(
            run_id=self.run_id,
            a=a,
            b=b,
            remote=remote,
            list_id=str(list_id),
            blocked_domain=blocked_domain,
            tokens=tokens,
            token_ids=token_ids,
        )
        return self.info

    def _account(self, role: str, domain: str | None) -> WorldAccount:
        account_id = _snowflake()
        username = f"{self.prefix}{role}"
        self.account_ids.append(account_id)
        self._insert(
            "accounts",
            {
                "id": account_id,
                "username": username,
                "domain": domain,
                "created_at": _now_sql(),
                "updated_at": _now_sql(),
            },
        )
        return WorldAccount(str(account_id), username, domain)

    def _user(self, account: WorldAccount) -> int:
        return self._insert(
            "users",
            {
                "account_id": int(account.id),
                "email": f"{account.username}@conformance.invalid",
                "created_at": _now_sql(),
                "updated_at": _now_sql(),
            },
        )

    def relate(self, kind: str, account_id: str, target_account_id: str) -> int:
        """``mute`` or ``block``: a row in ``mutes``/``blocks``, as Rails' services write it."""
        if kind not in ("mute", "block"):
            raise ValueError(f"unknown relation {kind!r}")
        return self._insert(
            f"{kind}s",
            {
                "account_id": int(account_id),
                "target_account_id": int(target_account_id),
                "created_at": _now_sql(),
                "updated_at": _now_sql(),
            },
        )

    def add_filter(self, account_id: str, title: str, keyword: str) -> int:
        """A v2 filter (``custom_filters`` + one ``custom_filter_keywords`` row)."""
        filter_id = self._insert(
            "custom_filters",
            {
                "account_id": int(account_id),
                "phrase": title,
                "context": ["home", "public"],
                "action": 0,
                "created_at": _now_sql(),
                "updated_at": _now_sql(),
            },
        )
        self._insert(
            "custom_filter_keywords",
            {
                "custom_filter_id": filter_id,
                "keyword": keyword,
                "whole_word": True,
                "created_at": _now_sql(),
                "updated_at": _now_sql(),
            },
        )
        return filter_id

    def revoke(self, role: str) -> str:
        """Doorkeeper's revoke: ``revoked_at`` set; returns the token id for ``kill``."""
        if self.info is None or role not in self.info.token_ids:
            raise KeyError(role)
        token_id = self.info.token_ids[role]
        self._exec(
            "UPDATE oauth_access_tokens SET revoked_at = now() WHERE id = %s", (int(token_id),)
        )
        return token_id

    # --- cleanup -------------------------------------------------------------------------------

    def delete_row(self, table: str, row_id: int) -> None:
        """Delete one row this run inserted (and forget it): a mute or block undone between
        ``--max-connections`` batches."""
        if (table, row_id) not in self.ledger:
            raise ValueError(f"{table} {row_id} is not a row of this run")
        self._exec(f"DELETE FROM {table} WHERE id = %s", (row_id,))
        self.ledger.remove((table, row_id))

    def cleanup(self) -> list[str]:
        """Delete every row of this run (ledger in reverse, then a sweep); never raises.

        Returns what could not be deleted (for a note); idempotent.
        """
        problems: list[str] = []
        if self._conn is None and (self.ledger or self.account_ids):
            try:
                self.connect()
            except SchemaError as exc:
                problems.append(str(exc))
        if self._conn is not None:
            for table, row_id in reversed(self.ledger):
                try:
                    self._exec(f"DELETE FROM {table} WHERE id = %s", (row_id,))
                except Exception as exc:
                    problems.append(f"{table} {row_id}: {type(exc).__name__}")
            problems += self._sweep()
        self.ledger.clear()
        if not problems:
            self.account_ids.clear()
        self.close()
        if self._atexit:
            atexit.unregister(self.cleanup)
            self._atexit = False
        for problem in problems:
            log.warning("database cleanup: %s", problem)
        return problems

    def _sweep(self) -> list[str]:
        """Rows that reference this run's accounts but escaped the ledger (child tables first)."""
        if not self.account_ids:
            return []
        ids = list(self.account_ids)
        statements = [
            (
                "DELETE FROM oauth_access_tokens WHERE resource_owner_id IN "
                "(SELECT id FROM users WHERE account_id = ANY(%s))",
                (ids,),
            ),
            (
                "DELETE FROM custom_filter_keywords WHERE custom_filter_id IN "
                "(SELECT id FROM custom_filters WHERE account_id = ANY(%s))",
                (ids,),
            ),
            ("DELETE FROM custom_filters WHERE account_id = ANY(%s)", (ids,)),
            ("DELETE FROM account_domain_blocks WHERE account_id = ANY(%s)", (ids,)),
            ("DELETE FROM lists WHERE account_id = ANY(%s)", (ids,)),
            *(
                (
                    f"DELETE FROM {t} WHERE account_id = ANY(%s) OR target_account_id = ANY(%s)",
                    (ids, ids),
                )
                for t in _RELATION_TABLES
            ),
            ("DELETE FROM users WHERE account_id = ANY(%s)", (ids,)),
            ("DELETE FROM accounts WHERE id = ANY(%s)", (ids,)),
        ]
        problems = []
        for sql, params in statements:
            try:
                self._exec(sql, params)
            except Exception as exc:
                problems.append(f"sweep {sql.split(' WHERE')[0]}: {type(exc).__name__}")
        return problems

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception as exc:  # closing is best effort
                log.debug("close failed: %s", exc)


def _now_sql() -> Any:
    """Now as Rails stores it: naive UTC in a ``timestamp without time zone`` column."""
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(tzinfo=None)


__all__ = ["TOKEN_ROLES", "FixtureWorld", "WorldAccount", "WorldInfo"]
