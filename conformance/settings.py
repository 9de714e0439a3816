"""The typed configuration of one run: what every phase of a run reads, and nothing else.

Kept apart from ``config.py`` (which parses flags and environment variables into it) so the
session, plan and judges depend on a plain frozen dataclass, not on the option machinery.
``config.Settings`` re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """The effective configuration of one run (see docs/ARCHITECTURE.md, "Live run").

    ``target`` None means the embedded reference server; ``allow_public_posts`` None means
    "decide from the target" (public posts only on loopback/private hosts).
    """

    target: str | None = None
    streaming_url: str | None = None
    token: str | None = None
    second_token: str | None = None
    report_dir: Path | None = None
    stimulus: str = "rest"
    read_only: bool = False
    observe_seconds: float = 20.0
    allow_public_posts: bool | None = None
    heartbeat_timeout_s: float = 20.0
    long: bool = False
    strict: bool = False
    redis_url: str | None = None
    account_id: str | None = None
    second_account_id: str | None = None
    list_id: str | None = None
    database_url: str | None = None  # --database-url: the suite seeds a bare server's PostgreSQL
    timeout_multiplier: float = 1.0
    verify_tls: bool = True
    embedded_heartbeat_s: float = 15.0
    embedded_ping_interval_s: float = 30.0
    ping_timeout_s: float = 35.0
    max_setup_attempts: int = 3  # --max-setup-attempts: 429/502-504/connect-failure retries
    max_retry_wait_s: float = 30.0  # --max-retry-wait: longest wait before a setup retry
    max_connections: int = 50  # --max-connections: connections open at once (batches beyond)
    api_version: str | None = None  # --api-version: the Mastodon API version to gate features by
    baseline: Path | None = None
    write_baseline: Path | None = None
    exclude: tuple[str, ...] = ()
    fail_on: str = "fail"
    repeat: int = 1
    anonymous: bool = False  # --anonymous: a token-less audit, asked for explicitly

    def secrets(self) -> list[str]:
        """Values that must never appear in output or artifacts."""
        from conformance.redact import secrets_from_url

        out = [v for v in (self.token, self.second_token) if v]
        for url in (self.redis_url, self.database_url, self.target, self.streaming_url):
            out.extend(secrets_from_url(url))  # the password of user:password@ in any URL
        return out
