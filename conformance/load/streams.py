"""Which streams the load subscribers spread over, and how each is addressed per transport.

``--streams public,hashtag:TAG,user``: every stimulus is a public status by the second account
with ``#TAG`` in its text, which Mastodon fans out to ``public``, ``hashtag`` (that tag) and the
home (``user``) stream of its followers (the first account follows the second during setup), so
every subscriber of every listed stream must receive every stimulus.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["STREAM_KINDS", "StreamSpec", "parse_streams"]

STREAM_KINDS = ("public", "hashtag", "user")


@dataclass(frozen=True)
class StreamSpec:
    kind: str
    tag: str | None = None

    @property
    def label(self) -> str:
        return f"hashtag:{self.tag}" if self.kind == "hashtag" else self.kind

    def sse_path(self) -> tuple[str, dict[str, str]]:
        if self.kind == "hashtag":
            return "/api/v1/streaming/hashtag", {"tag": str(self.tag)}
        return f"/api/v1/streaming/{self.kind}", {}

    def ws_params(self) -> dict[str, str]:
        if self.kind == "hashtag":
            return {"stream": "hashtag", "tag": str(self.tag)}
        return {"stream": self.kind}


def parse_streams(text: str, default_tag: str) -> list[StreamSpec]:
    """``public,hashtag:TAG,user`` -> specs; ``hashtag`` alone uses ``default_tag``."""
    specs: list[StreamSpec] = []
    for word in (w.strip() for w in text.split(",")):
        if not word:
            continue
        kind, _, tag = word.partition(":")
        if kind not in STREAM_KINDS:
            raise ValueError(f"unknown stream {word!r} (expected public, hashtag[:TAG] or user)")
        if kind == "hashtag":
            tag = tag or default_tag
            if not tag.isalnum():
                raise ValueError(f"hashtag {tag!r} must be letters and digits only")
            specs.append(StreamSpec("hashtag", tag.lower()))
        elif tag:
            raise ValueError(f"stream {kind!r} takes no parameter")
        else:
            specs.append(StreamSpec(kind))
    if not specs:
        raise ValueError("no stream given")
    return specs
