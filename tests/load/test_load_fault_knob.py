"""The reference server's load faults: parsed strictly, inactive below N, dropping or delaying
deliveries above it (the live proof is ``test_load_live.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from timing import scaled

from conformance.reference import faults
from conformance.reference.__main__ import build_parser, settings_from_args


@pytest.fixture(autouse=True)
def _faithful_afterwards() -> Iterator[None]:
    yield
    faults.install(())
    faults.subscribed(-(10**6))


def test_specs_parse_and_bad_ones_are_refused() -> None:
    assert faults.parse_load_fault("drop-above:5") == faults.LoadFault("drop-above", 5, 10)
    assert faults.parse_load_fault("delay-above:5:250") == faults.LoadFault("delay-above", 5, 250)
    for bad in ("drop-above", "drop-above:x", "delay-above:5", "delay-above:5:0", "drop-below:1"):
        with pytest.raises(ValueError):
            faults.validate([bad])


def test_cli_accepts_load_faults_beside_the_named_ones() -> None:
    args = build_parser().parse_args(["serve", "--fault", "drop-above:3:2", "--fault", "sse-crlf"])
    assert settings_from_args(args).faults == frozenset({"drop-above:3:2", "sse-crlf"})
    faults.install(settings_from_args(args).faults)
    assert faults.active("sse-crlf")
    assert faults.current() == frozenset({"sse-crlf"})


def test_without_a_load_fault_the_output_is_untouched() -> None:
    def output(event: str, payload: str) -> None:
        pass

    assert faults.under_load(output) is output


def test_drop_above_drops_every_kth_delivery_only_above_n() -> None:
    faults.install(["drop-above:2:3"])
    got: list[int] = []
    gated = faults.under_load(lambda event, payload: got.append(payload))
    faults.subscribed(+2)
    for i in range(6):
        gated("update", i)
    assert got == list(range(6))  # 2 subscribers: not above N
    faults.subscribed(+1)
    for i in range(6, 12):
        gated("update", i)
    assert got[6:] == [6, 7, 9, 10]  # every third delivery lost


async def test_delay_above_delivers_late() -> None:
    faults.install(["delay-above:0:50"])
    faults.subscribed(+1)
    loop = asyncio.get_running_loop()
    arrived = loop.create_future()
    gated = faults.under_load(lambda event, payload: arrived.set_result(loop.time()))
    start = loop.time()
    gated("update", "x")
    assert not arrived.done()
    assert await asyncio.wait_for(arrived, scaled(5.0)) - start >= 0.05
