"""Token sources per transport: which ways of passing the token a server must accept.

Levels come from the clients that use each source (divergences.md §2-§3.2): SSE clients send the
Authorization header (Mastodon.py), browser WebSocket clients can only use the subprotocol
(masto.js, Elk, Phanpy) or the query (megalodon, pl-api).
"""

from __future__ import annotations

from conformance.requirements import define

define(
    "auth.sse.token-header",
    "MUST",
    source="docs",
    clause="streaming.md (Authorization: Bearer; mastodon/documentation#1575, #1576); Mastodon.py",
    description="An SSE stream accepts the token in 'Authorization: Bearer'.",
)
define(
    "auth.sse.token-query",
    "SHOULD",
    source="code",
    clause="streaming/index.js:408-422 (?access_token= accepted on SSE)",
    description="An SSE stream accepts the token as ?access_token=.",
)
define(
    "auth.sse.token-subprotocol",
    "INFO",
    source="code",
    clause="streaming/index.js:408-422 (Sec-WebSocket-Protocol read on SSE too; incidental)",
    description="Records whether SSE accepts the token in Sec-WebSocket-Protocol.",
)
define(
    "auth.ws.token-header",
    "SHOULD",
    source="client",
    clause="Mastodon.py 2.3 WebSocket (Authorization only); streaming/index.js:408-422",
    description="A WebSocket upgrade accepts the token in 'Authorization: Bearer'.",
)
define(
    "auth.ws.token-query",
    "MUST",
    source="client",
    clause="streaming.md (access_token parameter); h3poteto/megalodon (query only)",
    description="A WebSocket upgrade accepts the token as ?access_token=.",
)
define(
    "auth.ws.token-subprotocol",
    "MUST",
    source="client",
    clause="neet/masto.js (token as subprotocol; browsers cannot set headers), "
    "neet/masto.js#1305, elk-zone/elk#3356",
    description="A WebSocket upgrade accepts the token as Sec-WebSocket-Protocol.",
)
define(
    "auth.token-source.subprotocol-echoed",
    "MUST",
    source="client",
    clause="RFC 6455 §4.1; Chrome 'Sent non-empty Sec-WebSocket-Protocol header but no response' "
    "(elk-zone/elk#2427, superseriousbusiness/gotosocial#3169, #3996)",
    description="A 101 answering an offered Sec-WebSocket-Protocol echoes exactly that value.",
)
define(
    "auth.anonymous.public-streams",
    "MUST",
    source="docs",
    clause="streaming.md and mastodon/mastodon#23989 (a user token is required on every stream "
    "since 4.2: 401 'Missing access token'). MUST because the documentation states it and a "
    "server that streams public timelines anonymously exposes them to any scraper; Pleroma and "
    "Akkoma allow it (divergences.md §1) and fail here.",
    description="A public or hashtag stream requested without a token is refused (401).",
)
