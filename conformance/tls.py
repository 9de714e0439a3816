"""One TLS client context per process, shared by every httpx client of a run.

Why: ``httpx.AsyncClient(verify=True)`` builds a new ``ssl.SSLContext`` and loads certifi's CA
bundle into it, ~50 ms of CPU per client; a run opens three or four clients (discovery,
preflight, the session, a Redis stimulus's REST side) before and around its network time. The
context is httpx's own (``httpx.create_ssl_context``: ``SSL_CERT_FILE``/``SSL_CERT_DIR`` still
honoured), built once per ``verify`` value; contexts are safe to share between clients.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx

__all__ = ["client_tls"]


@cache
def client_tls(verify: bool) -> ssl.SSLContext:
    """What to pass as ``httpx.AsyncClient(verify=...)``: ``verify=False`` (``--insecure``)
    gives a context that checks neither the chain nor the host name, exactly as httpx's."""
    return httpx.create_ssl_context(verify=bool(verify))
