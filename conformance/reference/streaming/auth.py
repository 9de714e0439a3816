"""Who is asking: token extraction and validation exactly as ``accountFromRequest`` does it.

The order matters and is observable (§3): the ``Authorization`` header wins even when invalid,
then ``?access_token=``, then the *whole* ``Sec-WebSocket-Protocol`` value (also on plain SSE).
Only a leading, case-sensitive ``Bearer `` is stripped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .errors import INVALID_TOKEN, MISSING_TOKEN, StreamError


class TokenInfoLike(Protocol):
    token_id: str
    account_id: str
    scopes: frozenset[str]
    chosen_languages: list[str] | None
    permissions: int


def extract_token(headers: Mapping[str, str], query: Mapping[str, list[str]]) -> str | None:
    """The token Mastodon would look up, or None when no source carries one."""
    authorization = headers.get("Authorization")
    if authorization:
        return (
            authorization[len("Bearer ") :]
            if authorization.startswith("Bearer ")
            else authorization
        )
    values = query.get("access_token")
    if values and values[0]:
        return values[0]
    protocol = headers.get("Sec-WebSocket-Protocol")
    if protocol:
        return protocol
    return None


def authenticate(store: Any, headers: Mapping[str, str], query: Mapping[str, list[str]]) -> Any:
    """TokenInfo of the caller; StreamError 401 "Missing access token" / "Invalid access token"."""
    token = extract_token(headers, query)
    if token is None:
        raise StreamError(MISSING_TOKEN, 401)
    info = store.authenticate(token)
    if info is None:
        raise StreamError(INVALID_TOKEN, 401)
    return info


def scopes_of(info: Any) -> frozenset[str]:
    return frozenset(info.scopes)
