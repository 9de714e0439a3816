"""Validation of the REST answers the driver uses: the target's answers are untrusted input.

Why: one media upload answered without ``id`` used to raise ``KeyError`` out of the driver and
crash the whole live session (every case ``error``). Each value the driver reads from an answer
goes through one of these helpers instead, and a malformed answer becomes a
``MalformedAnswer`` (a ``StimulusError``): that step's cases are ``error`` with the reason, the
other steps run on.
"""

from __future__ import annotations

from typing import Any

from conformance.stimulus.base import StimulusError

__all__ = ["MalformedAnswer", "need_id", "need_list", "need_object", "need_str"]


class MalformedAnswer(StimulusError):
    """A REST answer the driver needs does not have the documented shape."""


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def need_object(body: Any, what: str) -> dict[str, Any]:
    """``body`` as a JSON object, or ``MalformedAnswer`` naming ``what`` was expected."""
    if not isinstance(body, dict):
        raise MalformedAnswer(
            f"{what}: expected a JSON object; observed {type(body).__name__} {_describe(body)}"
        )
    return body


def need_id(body: Any, what: str, key: str = "id") -> str:
    """The non-empty string or integer ``body[key]`` as a string (Mastodon ids are strings)."""
    obj = need_object(body, what)
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        shown = "no key" if key not in obj else f"{type(value).__name__} {_describe(value)}"
        raise MalformedAnswer(f"{what}: expected a string '{key}'; observed {shown}")
    return str(value)


def need_str(body: Any, what: str, key: str) -> str:
    """The non-empty string ``body[key]`` (a token, an acct)."""
    obj = need_object(body, what)
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        shown = "no key" if key not in obj else type(value).__name__
        raise MalformedAnswer(f"{what}: expected a string '{key}'; observed {shown}")
    return value


def need_list(body: Any, what: str) -> list[Any]:
    """``body`` as a JSON array (``null`` or an empty body counts as empty)."""
    if body is None:
        return []
    if not isinstance(body, list):
        raise MalformedAnswer(
            f"{what}: expected a JSON array; observed {type(body).__name__} {_describe(body)}"
        )
    return body
