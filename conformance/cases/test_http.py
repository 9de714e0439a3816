"""HTTP behaviour of the streaming endpoints: status codes, headers, health."""

from conformance.plugin import JudgedCase


def test_http_exchange(judged_case: JudgedCase) -> None:
    """Plain requests to the streaming API answer as Mastodon does (status, type, CORS)."""
    judged_case.enforce()
