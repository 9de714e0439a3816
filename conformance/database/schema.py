"""The tables and columns of Mastodon's schema the suite depends on, and the check for them.

Two sources decide the list (``../shared/notes/mastodon-streaming.md`` §12 and Mastodon's
``db/schema.rb``): what ``streaming/index.js`` reads (token lookup, list ownership, feed-access
settings, relations and keyword filters), plus the columns Mastodon declares ``NOT NULL`` without
a default on the rows the suite inserts (``created_at``/``updated_at``, ``users.email``) and
``accounts.username``/``domain``, which make the unique ``(lower(username), lower(domain))``
index accept several fixture accounts. Nothing else is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["REQUIRED", "SchemaError", "describe_missing", "missing_columns"]


class SchemaError(RuntimeError):
    """The database cannot hold the fixture world (missing tables/columns, or unreachable)."""


_TIMESTAMPS = ("created_at", "updated_at")

#: table -> columns the suite reads or writes there.
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "accounts": ("id", "username", "domain", "suspended_at", *_TIMESTAMPS),
    "users": (
        "id",
        "account_id",
        "email",
        "chosen_languages",
        "disabled",
        "role_id",
        *_TIMESTAMPS,
    ),
    "user_roles": ("id", "permissions"),
    "oauth_access_tokens": (
        "id",
        "token",
        "resource_owner_id",
        "scopes",
        "revoked_at",
        "created_at",
    ),
    "lists": ("id", "account_id", "title", *_TIMESTAMPS),
    "mutes": ("id", "account_id", "target_account_id", *_TIMESTAMPS),
    "blocks": ("id", "account_id", "target_account_id", *_TIMESTAMPS),
    "account_domain_blocks": ("id", "account_id", "domain", *_TIMESTAMPS),
    "custom_filters": (
        "id",
        "account_id",
        "phrase",
        "context",
        "expires_at",
        "action",
        *_TIMESTAMPS,
    ),
    "custom_filter_keywords": ("id", "custom_filter_id", "keyword", "whole_word", *_TIMESTAMPS),
    "settings": ("var", "value"),
}

COLUMNS_SQL = (
    "SELECT table_name, column_name FROM information_schema.columns "
    "WHERE table_schema = ANY(current_schemas(false)) AND table_name = ANY(%s)"
)


def missing_columns(present: Iterable[tuple[str, str]]) -> list[str]:
    """``table.column`` names of ``REQUIRED`` absent from ``present`` (a table: ``table``)."""
    have: dict[str, set[str]] = {}
    for table, column in present:
        have.setdefault(str(table), set()).add(str(column))
    out: list[str] = []
    for table, columns in REQUIRED.items():
        if table not in have:
            out.append(table)
            continue
        out += [f"{table}.{c}" for c in columns if c not in have[table]]
    return out


def describe_missing(missing: list[str]) -> str:
    """One line naming what is missing and the fix."""
    shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
    return (
        f"--database-url: not a Mastodon database (missing {shown}); point it at Mastodon's "
        "PostgreSQL, or load conformance/reference/pg/mastodon_schema.sql into an empty one"
    )
