"""The stream table: the 12 stream values and the placeholders for values known only at run time.

Placeholders (``{tag}``, ``{list}``, ...) keep the plan deterministic: the runner resolves them,
and they never enter a case id.
"""

from __future__ import annotations

from dataclasses import dataclass

TAG = "{tag}"
OTHER_TAG = "{other_tag}"
IDLE_TAG = "{tag}idle"  # a hashtag nothing posts to: an idle subscription
MIXED_TAG = "{mixed_tag}"  # the run's tag in mixed case (posts use it lower-cased)
LIST = "{list}"
SSE_BASE = "/api/v1/streaming"


@dataclass(frozen=True, slots=True)
class StreamSpec:
    name: str
    sse_path: str
    sse_params: tuple[tuple[str, str], ...] = ()
    ws_params: tuple[tuple[str, str], ...] = ()


#: The 12 stream values, with their SSE path and query and their WebSocket parameters.
STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec("user", f"{SSE_BASE}/user"),
    StreamSpec("user:notification", f"{SSE_BASE}/user/notification"),
    StreamSpec("public", f"{SSE_BASE}/public"),
    StreamSpec("public:media", f"{SSE_BASE}/public", (("only_media", "true"),)),
    StreamSpec("public:local", f"{SSE_BASE}/public/local"),
    StreamSpec("public:local:media", f"{SSE_BASE}/public/local", (("only_media", "true"),)),
    StreamSpec("public:remote", f"{SSE_BASE}/public/remote"),
    StreamSpec("public:remote:media", f"{SSE_BASE}/public/remote", (("only_media", "true"),)),
    StreamSpec("hashtag", f"{SSE_BASE}/hashtag", (("tag", TAG),), (("tag", TAG),)),
    StreamSpec("hashtag:local", f"{SSE_BASE}/hashtag/local", (("tag", TAG),), (("tag", TAG),)),
    StreamSpec("list", f"{SSE_BASE}/list", (("list", LIST),), (("list", LIST),)),
    StreamSpec("direct", f"{SSE_BASE}/direct"),
)
STREAM_NAMES = tuple(s.name for s in STREAMS)
PUBLIC_STREAMS = frozenset(n for n in STREAM_NAMES if n.startswith(("public", "hashtag")))
BY_NAME = {s.name: s for s in STREAMS}
