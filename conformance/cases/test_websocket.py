"""WebSocket protocol: handshake, subscribe/unsubscribe messages, error frames, close codes."""

from conformance.plugin import JudgedCase


def test_websocket(judged_case: JudgedCase) -> None:
    """Stimulus: a WebSocket connection that subscribes, unsubscribes and misbehaves on purpose."""
    judged_case.enforce()
