"""mastodon-streaming-conformance: a conformance suite for the Mastodon streaming API."""

__version__ = "0.1.0"
