"""mastodon-streaming-conformance: a conformance suite for the Mastodon streaming API.

One import-time setting, before any module of the package imports httpx: httpx's optional
command-line client (``httpx._main``) is marked as absent. Why: ``import httpx`` tries it
every time, importing click and pygments' lexers (installed here for locust and pytest) before
it fails on rich (not installed) and falls back to its "not installed" stand-in: ~25 ms of
every start for a client the suite never runs. With the entry set to ``None`` httpx takes that
same fallback at once. A process that imported httpx already is left as it is.
"""

import sys

if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]

__version__ = "0.1.0"
