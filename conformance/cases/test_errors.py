"""Refusals: bad tokens, missing scopes, unknown streams or parameters, as Mastodon refuses."""

from conformance.plugin import JudgedCase


def test_error_response(judged_case: JudgedCase) -> None:
    """Stimulus: a request the server must refuse; status and error text are compared."""
    judged_case.enforce()
