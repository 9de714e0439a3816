"""Connection keys and multiplex subscriptions that both the plan and the delivery judge name.

A key is a connection's stable label (``Meta.id``); the plan opens connections under these keys
and the delivery judge looks their transcripts up by them, so they live below both.
"""

from __future__ import annotations

from conformance.matrix.streams import TAG

#: An extra SSE hashtag stream on a tag nothing of ours carries, except one late step.
OTHER_TAG_KEY = "sse-hashtag-other"

#: Hashtag streams subscribed with a mixed-case spelling of the run's tag (§3.17), by transport.
HASHTAG_CASE_KEYS = {"sse": "sse-hashtag-case", "ws": "ws-hashtag-case"}

#: The subscriptions of the multiplexed WebSocket (``ws-multiplex``), and the one it drops.
MUX_SUBSCRIPTIONS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("stream", "user"),),
    (("stream", "public:local"),),
    (("stream", "hashtag"), ("tag", TAG)),
)
MUX_UNSUBSCRIBED = "public:local"
