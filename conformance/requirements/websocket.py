"""WebSocket requirements: handshake, frame types, message shape, errors and keep-alive."""

from __future__ import annotations

from conformance.requirements import define

define(
    "ws.handshake.no-unoffered-subprotocol",
    "MUST",
    source="spec",
    clause="RFC 6455 §4.1 (the client fails the connection on a subprotocol it did not offer)",
    description="The 101 response names no Sec-WebSocket-Protocol unless the client offered one.",
)
define(
    "ws.handshake.refused-without-valid-token",
    "MUST",
    source="docs",
    clause="streaming.md 'Establishing a WebSocket connection' (an invalid token is refused); "
    "streaming/index.js:207-225",
    description="A WebSocket upgrade with a missing or invalid token is not accepted (no 101).",
)
define(
    "ws.handshake.refused-status-401",
    "SHOULD",
    source="code",
    clause="streaming/index.js:207-225 (raw 401 Unauthorized); captures ws-04/ws-05/ws-06",
    description="A refused WebSocket upgrade answers 401.",
)
define(
    "ws.handshake.x-error-message",
    "INFO",
    source="code",
    clause="streaming/index.js:207-225 (X-Error-Message header on a refused upgrade)",
    description="Records the X-Error-Message header of a refused upgrade.",
)
define(
    "ws.frame.text",
    "MUST",
    source="docs",
    clause="streaming.md 'Establishing a WebSocket connection' (messages are JSON text); "
    "divergences.md §3.21",
    description="Every data frame from the server is a text frame.",
)
define(
    "ws.frame.json",
    "MUST",
    source="client",
    clause="divergences.md §3.22 (no '', '{}' or 'pong' text frames: "
    "kensanata/bitlbee-mastodon#37); megalodon treats them as parser errors",
    description="Every server text frame is a JSON object (an event message or an error).",
)
define(
    "ws.message.shape",
    "MUST",
    source="client",
    clause="streaming/index.js:983-996; masto.js RawEventOk {stream: string[], event, payload?}; "
    "glacasa/Mastonet#73",
    description="An event frame is {stream: array, event: string, payload: ...}; payload is "
    "absent only for filters_changed.",
)
define(
    "ws.message.stream-matches-subscription",
    "MUST",
    source="client",
    clause="divergences.md §3.10 (masto.js keeps a frame only if stream holds the name and "
    "params); streaming/index.js:1174-1182",
    description="The stream array of each event frame is one the client subscribed: [name], "
    "['hashtag', tag as sent] or ['list', id as sent].",
)
define(
    "ws.error.reported",
    "SHOULD",
    source="code",
    clause="streaming/index.js:1218-1230; divergences.md §3.13",
    description="A bad subscribe (unknown stream, hashtag without tag, list without list) is "
    "answered with an error frame.",
)
define(
    "ws.error.frame-shape",
    "SHOULD",
    source="code",
    clause="streaming/index.js:1218-1230 ({error, status}); 1262-1276 (unsubscribe: no status); "
    "Mastodon.py on_websocket_error",
    description='An error frame is {"error": string, "status": integer} (status may be '
    "absent after an unsubscribe).",
)
define(
    "ws.error.message-exact",
    "SHOULD",
    source="code",
    clause="streaming/index.js:1218-1230 and streaming/errors.js (message texts)",
    description="The error text for a bad subscribe is Mastodon's ('Unknown stream type', "
    "'Missing tag name parameter', 'Missing list name parameter').",
)
define(
    "ws.error.socket-stays-open",
    "MUST",
    source="docs",
    clause="streaming.md (subscriptions are multiplexed on one socket); divergences.md §3.13 "
    "(Iceshrimp.NET closes 1007/1008)",
    description="After a bad subscribe the server keeps the socket open.",
)
define(
    "ws.ping.pong",
    "MUST",
    source="spec",
    clause="RFC 6455 §5.5.2-5.5.3 (a Ping is answered by a Pong with identical data)",
    description="The server answers a client ping with a pong carrying the same data, within "
    "5 s x --timeout-multiplier (judge/tolerances.py PONG_WINDOW_S).",
)
define(
    "ws.ping.server-keepalive",
    "SHOULD",
    source="code",
    clause="streaming/index.js:1409-1421 (ping every 30 000 ms); "
    "captures/mastodon-4.8.0-alpha.1/long-02-ws-server-ping.jsonl",
    description="On an idle socket the server pings within 30 s (+5 s grace, +1 s x "
    "--timeout-multiplier margin) and keeps doing so (long runs only).",
)
define(
    "ws.ping.no-pong-terminated",
    "INFO",
    source="code",
    clause="streaming/index.js:1409-1421; "
    "captures/mastodon-4.8.0-alpha.1/long-03-ws-no-pong-terminated.jsonl",
    description="Records whether a client that never answers pings is disconnected.",
)
define(
    "ws.close.binary-1003",
    "INFO",
    source="code",
    clause="streaming/index.js:1368; mastodon/mastodon#25532; captures ws-13-binary-message",
    description="Records how the server treats a binary frame from the client (Mastodon: "
    "close 1003).",
)
