"""SSE wire-format requirements, judged on every SSE transcript.

The strictness is set by the clients: Mastodon.py's own LF-only parser raises on lines lacking
": " and never dispatches an event whose blank line carries a CR (divergences.md §2, §3.6).
"""

from __future__ import annotations

from conformance.requirements import define

define(
    "sse.framing.valid-lines",
    "MUST",
    source="client",
    clause="Mastodon.py SSE parser ('Malformed event' on lines without ': '); divergences.md §3.6; "
    "eliah-w/mastodon-api#3",
    description="Every non-comment line is 'field: value' with a known field (event, data, id, "
    "retry).",
)
define(
    "sse.framing.lf-line-endings",
    "MUST",
    source="client",
    clause="streaming/index.js:953-956 writes LF only; Mastodon.py splits on LF only "
    "(a CR stays in the event name and the blank line), divergences.md §3.6",
    description="Lines end with LF; CR and CRLF break LF-only Mastodon clients although WHATWG "
    "SSE allows them.",
)
define(
    "sse.framing.event-field",
    "MUST",
    source="docs",
    clause="streaming.md 'Event types' (every event is named); streaming/index.js:953-956",
    description="Every dispatched event has an 'event:' line naming it.",
)
define(
    "sse.framing.data-field",
    "MUST",
    source="docs",
    clause="streaming.md 'Event types'; streaming/index.js:953-956",
    description="Every event except filters_changed has a 'data:' line.",
)
define(
    "sse.framing.blank-line-terminates-event",
    "MUST",
    source="spec",
    clause="WHATWG HTML §9.2.6 (a blank line dispatches the event); magicalraccoon/tootstream#163",
    description="Each event ends with a blank line, so consecutive events never merge and no "
    "event is left unterminated when the stream ends cleanly.",
)
define(
    "sse.framing.utf8",
    "MUST",
    source="spec",
    clause="WHATWG HTML §9.2.5 (the stream is always UTF-8)",
    description="The SSE body is valid UTF-8.",
)
define(
    "sse.framing.no-id-retry",
    "INFO",
    source="code",
    clause="streaming/index.js:953-956 (Mastodon never sends id: or retry:)",
    description="Records whether the server sends id:/retry: fields (Mastodon does not resume).",
)
define(
    "sse.framing.single-data-line",
    "INFO",
    source="code",
    clause="streaming/index.js:953-956 (one data line per event)",
    description="Records events whose data spans several data: lines (legal SSE; Mastodon "
    "sends one).",
)
define(
    "sse.framing.size-bounded",
    "MUST",
    source="client",
    clause="client robustness: an SSE client buffers a line until LF and an event until its "
    "blank line; bounds of the suite's parser (conformance/sse/parser.py: max_line_bytes "
    "1 MiB, max_event_bytes 64 lines' worth) name an endless line or event instead of a silence",
    description="Every SSE line ends within 1 MiB and every event within the parser's event "
    "bound; a longer line or event is never buffered whole.",
)
