"""The suite's pytest cases: one module per area, parametrised from the session plan.

Each module has one test function that enforces its judged Result (``judged_case.enforce()``);
the plugin parametrises it with the planned cases of its area. The live session has recorded and
judged everything before a case body runs, so a case is a lookup, not I/O.

``AREAS`` maps each module to the requirement-id prefixes (or ``PlannedCase.group`` values) it
runs; a case goes to the module with the longest matching prefix, and ``test_other`` takes
whatever no module claims, so a planned case is never silently dropped.
"""

from __future__ import annotations

from functools import cache

__all__ = ["AREAS", "CATCH_ALL", "module_for"]

AREAS: dict[str, tuple[str, ...]] = {
    "test_http": ("http",),
    "test_sse_framing": ("sse",),
    "test_heartbeat": ("sse.heartbeat", "ws.ping"),
    "test_websocket": ("ws",),
    "test_auth": ("auth",),
    "test_errors": ("errors",),
    "test_payloads": ("payload", "payloads", "events"),
    "test_delivery": ("delivery",),
}
CATCH_ALL = "test_other"


def _matches(area: str, name: str) -> bool:
    return name == area or name.startswith(area + ".")


@cache  # asked once per planned case and case module (~9k times a run), for ~200 distinct pairs
def module_for(requirement: str, group: str) -> str:
    """The case module (stem) that runs a planned case."""
    best, best_len = CATCH_ALL, -1
    for module, areas in AREAS.items():
        for area in areas:
            if (_matches(area, requirement) or _matches(area, group)) and len(area) > best_len:
                best, best_len = module, len(area)
    return best
