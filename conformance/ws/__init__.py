"""WebSocket: sans-I/O parsing of Mastodon's server text frames and client control messages."""

from conformance.ws.messages import (
    BARE_STRING_EVENTS,
    ErrorMessage,
    Malformed,
    ServerMessage,
    StreamMessage,
    decoded_payload,
    parse_server_text,
    subscribe_message,
    unsubscribe_message,
)

__all__ = [
    "BARE_STRING_EVENTS",
    "ErrorMessage",
    "Malformed",
    "ServerMessage",
    "StreamMessage",
    "decoded_payload",
    "parse_server_text",
    "subscribe_message",
    "unsubscribe_message",
]
