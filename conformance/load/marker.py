"""The marker each load stimulus carries: run id, kind, sequence number and send time.

``msc-load-<run>-<kind><seq>-<epoch µs>``: ``kind`` is ``w`` (warm-up: proves a subscriber is
listening) or ``m`` (measured). Only ASCII letters, digits and dashes, so the marker survives
Mastodon's HTML rendering of a status and JSON string escaping unchanged, and a subscriber finds
it with one regular expression, without decoding the payload.
"""

from __future__ import annotations

import re
import secrets
import time

__all__ = ["find_marker", "make_marker", "new_run_id"]

_MARKER = re.compile(r"msc-load-([0-9a-f]{8})-([wm])([0-9]+)-([0-9]+)")


def new_run_id() -> str:
    return secrets.token_hex(4)


def make_marker(run_id: str, kind: str, seq: int, sent: float | None = None) -> tuple[str, int]:
    """(marker text, send time in epoch µs); ``sent`` defaults to now."""
    sent_us = int((time.time() if sent is None else sent) * 1e6)
    return f"msc-load-{run_id}-{kind}{seq}-{sent_us}", sent_us


def find_marker(text: str, run_id: str) -> tuple[str, int, int] | None:
    """(kind, seq, send µs) of this run's marker in ``text``, or None."""
    if "msc-load-" not in text:
        return None
    for match in _MARKER.finditer(text):
        if match.group(1) == run_id:
            return match.group(2), int(match.group(3)), int(match.group(4))
    return None
