"""Cases of any plan group without its own module here (none is ever dropped)."""

from conformance.plugin import JudgedCase


def test_other(judged_case: JudgedCase) -> None:
    """Stimulus: as planned by the session; see the requirement in the case id."""
    judged_case.enforce()
