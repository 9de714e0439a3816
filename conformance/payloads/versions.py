"""Mastodon version strings compared as numbers, for gating attributes by the version added.

Servers advertise versions such as ``4.8.0-alpha.1`` or ``4.2.10+glitch``; only the leading
``major.minor.patch`` matters for "was this attribute there yet". A pre-release of X counts as
X: ``4.5.0-beta.1`` already carries what 4.5.0 adds.
"""

from __future__ import annotations

import re

NEWEST_KNOWN = "4.8.0"

_VERSION = re.compile(r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``"4.8.0-alpha.1"`` -> ``(4, 8, 0)``; None when the text has no leading number."""
    match = _VERSION.match(text)
    if match is None:
        return None
    major, minor, patch = (int(part) if part else 0 for part in match.groups())
    return (major, minor, patch)


def added_after(added: str, server_version: str | None) -> bool:
    """True when an attribute added in ``added`` is newer than the server's version.

    An unknown or unparsable server version is judged as the newest (nothing is newer).
    """
    if server_version is None:
        return False
    server = parse_version(server_version)
    attribute = parse_version(added)
    if server is None or attribute is None:
        return False
    return attribute > server
