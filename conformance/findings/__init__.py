"""Findings: a run's results grouped by root cause, and the target's capabilities.

``analyse(results, transcripts) -> Analysis`` is pure (no I/O); the reports lead with it.
See ``group.py`` for the attribution order and ``rules.py`` for which failure explains which.
"""

from conformance.findings.capabilities import detect_capabilities
from conformance.findings.group import analyse
from conformance.findings.model import (
    Analysis,
    Availability,
    Capabilities,
    Consequence,
    Evidence,
    Finding,
)

__all__ = [
    "Analysis",
    "Availability",
    "Capabilities",
    "Consequence",
    "Evidence",
    "Finding",
    "analyse",
    "detect_capabilities",
]
