"""``PgStreamingStore``: the streaming side's query API over a Mastodon-schema PostgreSQL.

The query texts are those of ``streaming/index.js`` (4.8.0-alpha.1; notes §12): the token lookup
joining users, accounts and user_roles (``:383``), list ownership (``:610``), the feed-access
settings (``:630-645``), blocks/mutes in one UNION and the domain block (``:749-770``) and the
keyword filters (``:770``). Mastodon runs them asynchronously; the reference's store interface
is synchronous (shared with the in-memory store), so these run on one autocommit connection under
a statement timeout. A loopback query costs well under a millisecond; a connection that broke is
reopened once per query.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from conformance.reference.store_types import FilterRule, TokenInfo

log = logging.getLogger(__name__)

FEED_ACCESS_DEFAULT = "--- public\n"
FILTER_ACTIONS = ("warn", "hide")  # ['warn', 'hide'][action]; anything else: no key

TOKEN_SQL = (
    "SELECT oauth_access_tokens.id, oauth_access_tokens.resource_owner_id, users.account_id, "
    "users.chosen_languages, oauth_access_tokens.scopes, "
    "COALESCE(user_roles.permissions, 0) AS permissions "
    "FROM oauth_access_tokens "
    "INNER JOIN users ON oauth_access_tokens.resource_owner_id = users.id "
    "INNER JOIN accounts ON accounts.id = users.account_id "
    "LEFT OUTER JOIN user_roles ON user_roles.id = users.role_id "
    "WHERE oauth_access_tokens.token = %s AND oauth_access_tokens.revoked_at IS NULL "
    "AND users.disabled IS FALSE AND accounts.suspended_at IS NULL LIMIT 1"
)
LIST_SQL = "SELECT id, account_id FROM lists WHERE id = %s LIMIT 1"
SETTING_SQL = "SELECT var, value FROM settings WHERE var = %s"
RELATIONS_SQL = (
    "SELECT 1 FROM blocks WHERE (account_id = %s AND target_account_id = ANY(%s)) "
    "OR (account_id = ANY(%s) AND target_account_id = %s) "
    "UNION SELECT 1 FROM mutes WHERE account_id = %s AND target_account_id = ANY(%s)"
)
BLOCKS_SQL = "SELECT 1 FROM blocks WHERE account_id = %s AND target_account_id = ANY(%s)"
MUTES_SQL = "SELECT 1 FROM mutes WHERE account_id = %s AND target_account_id = ANY(%s)"
DOMAIN_BLOCK_SQL = "SELECT 1 FROM account_domain_blocks WHERE account_id = %s AND domain = %s"
FILTERS_SQL = (
    "SELECT filter.id, filter.phrase, filter.context, filter.expires_at, filter.action, "
    "keyword.keyword, keyword.whole_word "
    "FROM custom_filter_keywords keyword "
    "JOIN custom_filters filter ON keyword.custom_filter_id = filter.id "
    "WHERE filter.account_id = %s AND (filter.expires_at IS NULL OR filter.expires_at > NOW()) "
    "ORDER BY filter.id, keyword.id"
)


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


def _iso(value: Any) -> str | None:
    if not isinstance(value, datetime):
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Pairs:
    """``(viewer, target) in store.blocks``, for the ``ignore-*`` faults, as one query each."""

    def __init__(self, store: PgStreamingStore, sql: str) -> None:
        self._store = store
        self._sql = sql

    def __contains__(self, pair: object) -> bool:
        if not isinstance(pair, tuple) or len(pair) != 2:
            return False
        viewer, target = (str(p) for p in pair)
        if not (viewer.isdigit() and target.isdigit()):
            return False
        return bool(self._store.query(self._sql, (int(viewer), [int(target)])))


class PgStreamingStore:
    """The "Store query API" of docs/ARCHITECTURE.md, answered from PostgreSQL."""

    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        self._url = url
        self._timeout_s = timeout_s
        self._conn: Any = None
        self._lock = threading.Lock()
        self.blocks = _Pairs(self, BLOCKS_SQL)
        self.mutes = _Pairs(self, MUTES_SQL)

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(
            self._url, autocommit=True, connect_timeout=max(1, int(self._timeout_s))
        )
        conn.execute(f"SET statement_timeout = {int(self._timeout_s * 1000)}")
        return conn

    def check(self) -> None:
        """Connect once at start-up, so a wrong URL fails the server before it listens."""
        self.query("SELECT 1 FROM oauth_access_tokens LIMIT 0", ())

    def query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        import psycopg

        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None:
                        self._conn = self._connect()
                    return list(self._conn.execute(sql, params).fetchall())
                except psycopg.OperationalError:
                    self.close()
                    if attempt == 2:
                        raise
        return []

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception as exc:  # best effort
                log.debug("close failed: %s", exc)

    # --- the query API -------------------------------------------------------------------------

    def authenticate(self, token: str) -> TokenInfo | None:
        rows = self.query(TOKEN_SQL, (token,))
        if not rows:
            return None
        token_id, _owner, account_id, languages, scopes, permissions = rows[0]
        return TokenInfo(
            token_id=str(token_id),
            account_id=str(account_id),
            scopes=frozenset((scopes or "").split()),
            chosen_languages=list(languages) if languages is not None else None,
            permissions=int(permissions or 0),
        )

    def list_owner(self, list_id: str) -> str | None:
        if not str(list_id).isdigit():
            return None  # Postgres refuses a non-numeric bigint: Mastodon answers 401 too
        rows = self.query(LIST_SQL, (int(list_id),))
        return str(rows[0][1]) if rows else None

    def blocks_or_mutes_any(self, viewer_id: str, account_ids: list[str]) -> bool:
        viewer, targets = int(viewer_id), _ids(account_ids)
        if not targets:
            return False
        # Mastodon's query also asks whether the author blocks the viewer; is_blocked_by keeps
        # that half separate (the in-memory store's API), so the author list here is empty.
        return bool(self.query(RELATIONS_SQL, (viewer, targets, [], viewer, viewer, targets)))

    def is_blocked_by(self, author_id: str, viewer_id: str) -> bool:
        if not (str(author_id).isdigit() and str(viewer_id).isdigit()):
            return False
        return bool(self.query(BLOCKS_SQL, (int(author_id), [int(viewer_id)])))

    def blocks_domain(self, viewer_id: str, domain: str) -> bool:
        return bool(self.query(DOMAIN_BLOCK_SQL, (int(viewer_id), domain)))

    def active_filters(self, viewer_id: str) -> list[FilterRule]:
        rules: dict[str, FilterRule] = {}
        for fid, phrase, context, expires_at, action, keyword, whole in self.query(
            FILTERS_SQL, (int(viewer_id),)
        ):
            key = str(fid)
            if key not in rules:
                rules[key] = FilterRule(
                    id=key,
                    title=str(phrase),
                    context=list(context or []),
                    expires_at=_iso(expires_at),
                    filter_action=FILTER_ACTIONS[action]
                    if isinstance(action, int) and 0 <= action < len(FILTER_ACTIONS)
                    else "blur",
                    keywords=[],
                )
            rules[key].keywords.append((str(keyword), bool(whole)))
        return list(rules.values())

    def feed_access(self, setting: str) -> str:
        rows = self.query(SETTING_SQL, (setting,))
        return str(rows[0][1]) if rows and rows[0][1] is not None else FEED_ACCESS_DEFAULT


def schema_sql() -> str:
    return resources.files("conformance.reference.pg").joinpath("mastodon_schema.sql").read_text()


def load_schema(url: str, *, timeout_s: float = 10.0) -> None:
    """Create the schema subset in ``url`` (idempotent)."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout_s))) as conn:
        conn.execute(schema_sql())  # type: ignore[arg-type]
