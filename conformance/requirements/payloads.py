"""Entity payloads: every event's payload validates against its schema (schemas/)."""

from __future__ import annotations

from conformance.requirements import define

define(
    "payload.schema.valid",
    "MUST",
    source="docs",
    clause="streaming.md 'Event types' (the payload is the named entity); entities.md; "
    "schemas/*.json",
    description="Each event payload validates against its event's entity schema (warn and info "
    "findings are reported as such).",
)
define(
    "payload.ws.string",
    "MUST",
    source="client",
    clause="divergences.md §3.7 (every client double-parses; masto.js JSON.parse(payload)); "
    "streaming/index.js:983-996",
    description="A WebSocket payload is a JSON string (never an object or a number), to be "
    "parsed again.",
)
define(
    "payload.json.depth-bounded",
    "MUST",
    source="client",
    clause="client robustness: recursive JSON decoders fail on deep nesting (Python json: "
    "RecursionError near 1000 levels; Ruby JSON max_nesting 100); Mastodon entities nest about "
    "8 levels; bound MAX_JSON_DEPTH = 64 (conformance/safejson.py)",
    description="An event's JSON (an SSE data payload, a WebSocket frame and its payload string) "
    "nests at most 64 levels deep; deeper nesting is never decoded, and exposes clients.",
)
define(
    "payload.size-bounded",
    "MUST",
    source="client",
    clause="client robustness: a client buffers a whole event before parsing it; Mastodon "
    "statuses stay well under 200 KiB; bound MAX_JSON_BYTES = 256 KiB (conformance/safejson.py)",
    description="An event payload (SSE data, WebSocket frame and payload string) is at most "
    "1 MiB (1,048,576 bytes of UTF-8).",
)
