"""Delivery: every stream delivers the events its stimulus caused, and nothing it must not."""

from conformance.plugin import JudgedCase


def test_event_delivery(judged_case: JudgedCase) -> None:
    """Stimulus: a REST/Redis scenario with a unique marker; the stream must deliver it (or not)."""
    judged_case.enforce()
