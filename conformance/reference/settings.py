"""Runtime settings of the reference server, shared by the web and the streaming side.

Mutable on purpose: the public and streaming URLs are known only once the sockets are bound
(``--port 0``), and they are filled in before the first request is served.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MASTODON_VERSION = "4.8.0-alpha.1"


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 0
    #: Port of the streaming listener with ``split_ports`` (0 = any free port).
    streaming_port: int = 0
    #: SSE ``:thump`` interval (Mastodon: 15 000 ms).
    heartbeat_s: float = 15.0
    #: Global WebSocket ping/terminate timer (Mastodon: 30 000 ms).
    ping_interval_s: float = 30.0
    #: ``subscribed:<channel>`` key lifetime and refresh period (Mastodon: 1080 s / 360 s).
    subscription_ttl_s: int = 1080
    subscription_refresh_s: float = 360.0
    #: How long to wait for the client's close frame after the server sent one.
    ws_close_timeout_s: float = 10.0
    public_url: str = ""
    streaming_url: str = ""
    version: str = MASTODON_VERSION
    split_ports: bool = False
    bus: str = "memory"
    redis_url: str | None = None
    #: ``--database-url``: the streaming side reads Mastodon's PostgreSQL (``pg/``)
    database_url: str | None = None
    #: ``--max-connections``: streaming connections served at once (0 = no limit, as Mastodon).
    max_connections: int = 0
    #: Deliberate rule-breaking switched on by ``--fault`` (see ``faults.py``); empty = faithful.
    faults: frozenset[str] = field(default_factory=frozenset)
    #: Benign, legal variations switched on by ``--variant`` (``faults.VARIANTS``).
    variants: frozenset[str] = field(default_factory=frozenset)
