"""Authentication: token sources (header, query, subprotocol), scopes, anonymous access."""

from conformance.plugin import JudgedCase


def test_auth(judged_case: JudgedCase) -> None:
    """Stimulus: one connection per token source and scope; accepted or refused as Mastodon."""
    judged_case.enforce()
