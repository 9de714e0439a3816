"""SSE wire format: event/data lines, blank-line terminators, line endings, UTF-8."""

from conformance.plugin import JudgedCase


def test_sse_framing(judged_case: JudgedCase) -> None:
    """Stimulus: one subscription per stream; the recorded bytes obey the WHATWG SSE format."""
    judged_case.enforce()
