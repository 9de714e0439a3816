"""Version strings of Mastodon and of the servers that implement its API, read as claims.

Only a *Mastodon API version* gates anything ("was this attribute or feature there yet"). Servers
say it in several ways, and several say something else entirely:

* Mastodon: ``4.8.0-alpha.1``, ``4.2.10+glitch``, ``4.4.0-nightly.2025-02-05``: the leading
  ``major.minor.patch``; a pre-release of X counts as X (``4.5.0-beta.1`` carries what 4.5.0 adds).
* Compatible servers: ``2.7.2 (compatible; Pleroma 2.5.0)``, ``3.5.3 (compatible; GoToSocial
  0.16.0)``, ``4.2.1 (compatible; Iceshrimp.NET/v2025.1-beta5)``: the leading part is the Mastodon
  API version they claim; the parenthesis names the software.
* Bare software versions (GoToSocial ``0.19.1``, Sharkey ``2024.11.1``) and development builds
  (``0.0.0-c2ba6be9``, ``dev``): no Mastodon claim at all. A major of 0, or a calendar major
  (2000 and later), is never a Mastodon version.

No claim means "assume capable" (prefer observing a feature to skipping it): a run then tries
everything and judges what the server does. ``--api-version X`` overrides whatever the server says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NEWEST_KNOWN = "4.8.0"

_VERSION = re.compile(r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")
_COMPATIBLE = re.compile(r"\(\s*compatible\s*;\s*([^)]*?)\s*\)", re.IGNORECASE)
_SOFTWARE = re.compile(r"^([A-Za-z][\w.\-]*?)(?:[\s/]+v?(\S+))?$")
#: Mastodon majors that exist or may (1.x .. 9.x); 0 and calendar years are other software.
MASTODON_MAJORS = range(1, 10)


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``"4.8.0-alpha.1"`` -> ``(4, 8, 0)``; None when the text has no leading number."""
    match = _VERSION.match(text)
    if match is None:
        return None
    major, minor, patch = (int(part) if part else 0 for part in match.groups())
    return (major, minor, patch)


@dataclass(frozen=True, slots=True)
class ServerVersion:
    """What a version string claims. ``api`` None: no Mastodon API version is claimed."""

    raw: str
    api: tuple[int, int, int] | None
    software: str | None = None
    software_version: str | None = None
    development: bool = False

    def describe(self) -> str:
        api = ".".join(map(str, self.api)) if self.api else "no Mastodon API version"
        soft = f"{self.software} {self.software_version or ''}".strip() if self.software else ""
        return f"{api}" + (f" ({soft})" if soft else "")


def read_version(text: str | None) -> ServerVersion | None:
    """Classify a server's ``version`` string (None for None or an empty string)."""
    if not isinstance(text, str) or not text.strip():
        return None
    software = software_version = None
    compatible = _COMPATIBLE.search(text)
    if compatible is not None:
        found = _SOFTWARE.match(compatible.group(1))
        if found is not None:
            software, software_version = found.group(1), found.group(2)
    parsed = parse_version(text)
    development = parsed == (0, 0, 0) or not parsed
    api = parsed if parsed is not None and parsed[0] in MASTODON_MAJORS else None
    return ServerVersion(text, api, software, software_version, development and api is None)


def claimed_api_version(text: str | None) -> tuple[int, int, int] | None:
    """The Mastodon API version ``text`` claims, or None (no claim: assume capable)."""
    found = read_version(text)
    return found.api if found is not None else None


def added_after(added: str, server_version: str | None) -> bool:
    """True when an attribute added in ``added`` is newer than the Mastodon API version the
    server claims. A server that claims none is judged as the newest (nothing is newer)."""
    server = claimed_api_version(server_version)
    attribute = parse_version(added)
    if server is None or attribute is None:
        return False
    return attribute > server


def parse_api_version(text: str) -> str:
    """``--api-version`` value: a Mastodon version such as ``4.2`` or ``4.3.0``."""
    value = text.strip()
    parsed = parse_version(value)
    if parsed is None or parsed[0] not in MASTODON_MAJORS:
        raise ValueError(f"expected a Mastodon API version such as 4.3.0, got {text!r}")
    return value
