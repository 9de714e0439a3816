"""The embedded reference server as a run's target: start it, point the settings at it.

Split from ``run.py`` (one job per module): the settings a run against the embedded server uses
are its URLs, tokens, accounts and list, exactly as the server printed them.
"""

from __future__ import annotations

from dataclasses import replace

from conformance.config import Settings
from conformance.embedded import EmbeddedServer, server_options, start_embedded

__all__ = ["point_at", "start_server"]


def start_server(settings: Settings) -> EmbeddedServer:
    """Start (or adopt the child the CLI pre-started with the same options) the server."""
    return start_embedded(**server_options(settings))


def point_at(settings: Settings, server: EmbeddedServer) -> Settings:
    """The settings a run against the embedded server uses: its URLs, accounts and list."""
    first = server.accounts[0] if server.accounts else None
    second = server.accounts[1] if len(server.accounts) > 1 else None
    list_id = str(server.lists[0]["id"]) if server.lists else settings.list_id
    return replace(
        settings,
        target=server.url,
        streaming_url=server.streaming_url,
        token=first.token if first else None,
        second_token=second.token if second else None,
        account_id=first.id if first else None,
        second_account_id=second.id if second else None,
        list_id=list_id,
        allow_public_posts=True
        if settings.allow_public_posts is None
        else settings.allow_public_posts,
    )
