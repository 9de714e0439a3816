"""The streaming server's error vocabulary (``streaming/errors.js`` and the messages of §4).

One exception type carries the HTTP status and the exact message, so SSE (JSON body) and
WebSocket (error frame) render the same failure from one place.
"""

from __future__ import annotations

UNKNOWN_CHANNEL = "Unknown channel requested"
UNKNOWN_STREAM = "Unknown stream type"
MISSING_TOKEN = "Missing access token"
INVALID_TOKEN = "Invalid access token"
MISSING_SCOPES = "Access token does not have the required scopes"
MISSING_TAG = "Missing tag name parameter"
MISSING_LIST = "Missing list name parameter"
LIST_FORBIDDEN = "Not authorized to stream this list"
UNEXPECTED = "An unexpected error occurred"
UNSUBSCRIBE_FAILED = "Error unsubscribing from channel"
BINARY_NOT_SUPPORTED = "The mastodon streaming server does not support binary messages"


class StreamError(Exception):
    """A refusal with the status Mastodon answers and the text it puts in ``error``."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def unexpected() -> StreamError:
    return StreamError(UNEXPECTED, 500)
