"""Value parsers of the option table (``conformance.config``): str -> value.

Each raises ``ValueError`` with a user-facing message; ``resolve_settings`` turns that into a
``SettingsError`` naming the flag or environment variable.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected a boolean (1/0, true/false, yes/no, on/off), got {text!r}")


def parse_http_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"expected an http(s):// URL, got {text!r}")
    return text.strip().rstrip("/")


def parse_streaming_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in {"http", "https", "ws", "wss"} or not parts.hostname:
        raise ValueError(f"expected an http(s):// or ws(s):// URL, got {text!r}")
    return text.strip().rstrip("/")


def parse_redis_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ValueError("expected a redis://, rediss:// or unix:// URL")
    return text.strip()


def parse_database_url(text: str) -> str:
    """``--database-url``: a PostgreSQL URL (``conformance/database/``)."""
    if urlsplit(text.strip()).scheme not in {"postgres", "postgresql"}:
        raise ValueError("expected a postgresql:// URL")
    return text.strip()


def parse_positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"expected a positive number, got {text!r}")
    return value


def parse_non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"expected a number >= 0, got {text!r}")
    return value


def parse_text(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text.strip()


def parse_path(text: str) -> Path:
    if not text.strip():
        raise ValueError("must not be empty")
    return Path(text)


MAX_REPEAT = 100


def parse_repeat(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_REPEAT:
        raise ValueError(f"expected 1 to {MAX_REPEAT}, got {text!r}")
    return value


def parse_max_connections(text: str) -> int:
    """``--max-connections``: at least 2 (the two revocable streams share a batch)."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None
    if value < 2:
        raise ValueError(f"expected a whole number >= 2, got {text!r}")
    return value


def parse_setup_attempts(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise ValueError(f"expected a whole number >= 1, got {text!r}")
    return value
