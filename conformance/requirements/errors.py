"""Refused SSE/HTTP requests: the refusal itself (MUST) and Mastodon's error body (SHOULD).

One requirement per documented refusal reason, so a report says which refusal broke; the
expectation comes from the request the case made (``expect_error``/``expect_status``), never
from the response.
"""

from __future__ import annotations

from conformance.requirements import define

define(
    "errors.sse.missing-token",
    "MUST",
    source="docs",
    clause="streaming.md (a user token is required since 4.2, mastodon/mastodon#23989); "
    "streaming/index.js:408-422",
    description="A stream request without a token is refused with 401, not streamed (a 401 is "
    "what makes clients re-authenticate; another status reads as transient and is retried).",
)
define(
    "errors.sse.invalid-token",
    "MUST",
    source="code",
    clause="streaming/index.js:382-387 (unknown, revoked, disabled user, suspended account)",
    description="A stream request with an unknown or revoked token is refused with 401 (clients "
    "re-authenticate only on 401).",
)
define(
    "errors.sse.unknown-channel",
    "MUST",
    source="docs",
    clause="streaming.md ('Unknown channel requested'); streaming/index.js:432-453",
    description="A request for an unknown stream path is refused with a 4xx.",
)
define(
    "errors.sse.missing-tag",
    "MUST",
    source="code",
    clause="streaming/index.js:1073-1167 ('Missing tag name parameter')",
    description="A hashtag stream without tag is refused with a 4xx.",
)
define(
    "errors.sse.missing-list",
    "MUST",
    source="code",
    clause="streaming/index.js:1073-1167 ('Missing list name parameter')",
    description="A list stream without list is refused with a 4xx.",
)
define(
    "errors.sse.list-not-authorized",
    "MUST",
    source="code",
    clause="streaming/index.js:607-615 ('Not authorized to stream this list'); "
    "mastodon/documentation#1775",
    description="A list the token's account does not own (or that does not exist) is refused.",
)
define(
    "errors.sse.insufficient-scope",
    "MUST",
    source="code",
    clause="streaming/index.js:462-487 ('Access token does not have the required scopes')",
    description="A token lacking the stream's read scope is refused with a 4xx.",
)
define(
    "errors.http.refused",
    "MUST",
    source="docs",
    clause="streaming.md (errors are HTTP 4xx with a JSON error)",
    description="A request the case expects to be refused gets a 4xx status (reason not named).",
)
define(
    "errors.http.status-exact",
    "SHOULD",
    source="code",
    clause="streaming/index.js:581-593 (400 unknown channel / missing params, 401 auth, scope "
    "and list, 500 otherwise); mastodon-streaming.md §4. SHOULD, not MUST: a 404 for an "
    "unknown stream or a 422 for a missing tag is still a refusal clients report as an error "
    "(they never request these on purpose); the token refusals, whose 401 clients act on, "
    "are MUST in errors.sse.missing-token and errors.sse.invalid-token.",
    description="A refused request gets exactly Mastodon's status code.",
)
define(
    "errors.http.json-body",
    "SHOULD",
    source="code",
    clause="streaming/index.js:1036-1043 (res.end(JSON.stringify({error})))",
    description="The refusal body is a JSON object with a string 'error'.",
)
define(
    "errors.http.content-type-json",
    "SHOULD",
    source="code",
    clause="streaming/index.js:1036-1043 (Content-Type: application/json)",
    description="The refusal has Content-Type application/json.",
)
define(
    "errors.http.message-exact",
    "SHOULD",
    source="code",
    clause="streaming/errors.js and index.js:581-593 (error texts); mastodon-streaming.md §4",
    description="The 'error' text is Mastodon's message for that refusal.",
)
