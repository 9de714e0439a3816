"""Keep-alive: SSE comment heartbeats and WebSocket pings within the advertised interval."""

from conformance.plugin import JudgedCase


def test_heartbeat(judged_case: JudgedCase) -> None:
    """Stimulus: an idle subscription held past the heartbeat interval."""
    judged_case.enforce()
