"""``late-conversation`` in-process: off is the identity, on holds only conversation events back
``LATE_S`` (the live half, in ``test_faults_live.py``, shows the suite naming the lateness)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from timing import scaled

from conformance.reference import faults


@pytest.fixture(autouse=True)
def _faithful_afterwards() -> object:
    yield None
    faults.install(())  # the active set is process-wide: never leak a fault into other tests


def _sink() -> tuple[list[tuple[Any, Any, float]], Any]:
    got: list[tuple[Any, Any, float]] = []

    def output(event: Any, payload: Any) -> None:
        got.append((event, payload, asyncio.get_running_loop().time()))

    return got, output


def test_off_the_output_is_unchanged() -> None:
    _, output = _sink()
    assert faults.late(output) is output


def test_on_only_conversation_events_are_held_back() -> None:
    faults.install(["late-conversation"])
    assert faults.LATE_S > 0

    async def scenario() -> list[tuple[Any, Any, float]]:
        got, output = _sink()
        loop = asyncio.get_running_loop()
        late = faults.late(output)
        start = loop.time()
        late("update", "{}")
        late("conversation", "{}")
        assert [e for e, _, _ in got] == ["update"]  # the other event went out at once
        faults.LATE_S = 0.05  # the hold is read when the event is written; keep the test fast
        late("conversation", '{"n": 2}')
        await asyncio.sleep(0)
        assert [e for e, _, _ in got] == ["update"]

        async def second() -> None:
            while len(got) < 2:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(second(), scaled(5.0))
        return [(e, p, t - start) for e, p, t in got]

    saved = faults.LATE_S
    try:
        got = asyncio.run(scenario())
    finally:
        faults.LATE_S = saved
    assert [(e, p) for e, p, _ in got] == [("update", "{}"), ("conversation", '{"n": 2}')]
    assert got[1][2] >= 0.05
