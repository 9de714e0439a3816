"""Event payloads: each event's JSON matches the entity schema for its stream and version."""

from conformance.plugin import JudgedCase


def test_payload_schema(judged_case: JudgedCase) -> None:
    """Stimulus: the scenario that causes the event; its payload is validated against schemas/."""
    judged_case.enforce()
