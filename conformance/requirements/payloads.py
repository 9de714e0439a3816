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
