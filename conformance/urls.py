"""URLs the suite sends requests to: never with the target URL's userinfo.

A target given as ``http://user:password@host`` keeps its userinfo in ``--target`` (and the
password is redacted as a secret, ``Settings.secrets``), but no request may carry it: httpx turns
``user:password@`` into a Basic ``Authorization`` header that replaces the token's Bearer one,
and websockets' client adds the same Basic header to an upgrade. Every client the suite builds
from the target URL (preflight's token checks, the REST stimulus, the Redis driver's REST
reads, every recorded SSE/WebSocket/HTTP connection) takes its base through ``without_userinfo``.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def without_userinfo(url: str) -> str:
    """``url`` with any ``user[:password]@`` removed from its authority; otherwise unchanged."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


__all__ = ["without_userinfo"]
