"""One TLS client context per process, shared by every httpx client of a run.

Why: ``httpx.AsyncClient(verify=True)`` builds a new ``ssl.SSLContext`` and loads certifi's CA
bundle into it, ~50 ms of CPU per client; a run opens three or four clients (discovery,
preflight, the session, a Redis stimulus's REST side) before and around its network time. The
context is httpx's own (``httpx.create_ssl_context``: ``SSL_CERT_FILE``/``SSL_CERT_DIR`` still
honoured), built once per ``verify`` value; contexts are safe to share between clients.

``warm_up`` builds it in a background thread while the command is still starting (loading the
CA bundle releases the GIL), so discovery finds it ready instead of building it on the run's
critical path.
"""

from __future__ import annotations

import ssl
import threading

import httpx

__all__ = ["client_tls", "warm_up"]

_built: dict[bool, ssl.SSLContext] = {}
_lock = threading.Lock()


def client_tls(verify: bool) -> ssl.SSLContext:
    """What to pass as ``httpx.AsyncClient(verify=...)``: ``verify=False`` (``--insecure``)
    gives a context that checks neither the chain nor the host name, exactly as httpx's."""
    key = bool(verify)
    context = _built.get(key)
    if context is None:
        with _lock:  # a warm-up still building it: wait for that one, never build two
            context = _built.get(key)
            if context is None:
                context = _built[key] = httpx.create_ssl_context(verify=key)
    return context


def warm_up(verify: bool) -> threading.Thread:
    """Start building ``client_tls(verify)`` in a daemon thread; returns the thread."""
    thread = threading.Thread(
        target=client_tls, args=(verify,), name="msc-tls-warm-up", daemon=True
    )
    thread.start()
    return thread
