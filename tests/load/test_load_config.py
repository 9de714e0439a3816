"""Ramp syntax, assignment of transports and streams, and the target safety rule."""

from __future__ import annotations

import pytest

from conformance.load.config import LoadConfig, SafetyError, check_target, parse_ramp
from conformance.load.controller import assign
from conformance.load.streams import StreamSpec


def test_ramp_steps_end_at_max() -> None:
    assert LoadConfig(ramp=parse_ramp("500:1500:5000")).steps() == [500, 2000, 3500, 5000]
    assert LoadConfig(ramp=parse_ramp("10:10:30")).steps() == [10, 20, 30]
    assert LoadConfig(subscribers=7).steps() == [7]


@pytest.mark.parametrize("text", ["5:1", "0:1:5", "10:1:5", "a:b:c", "1:1:100000"])
def test_bad_ramps_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ramp(text)


def test_mix_alternates_transports_and_covers_every_stream() -> None:
    streams = (StreamSpec("public"), StreamSpec("hashtag", "t"), StreamSpec("user"))
    plan = assign(12, LoadConfig(transport="mix", streams=streams, sample_every=5))
    pairs = {(t, s["kind"]) for t, s, _ in plan}
    assert len(pairs) == 6  # each transport on each stream
    assert [sampled for _, _, sampled in plan].count(True) == 3  # 0, 5, 10


def test_loopback_and_private_targets_are_allowed() -> None:
    for url in (
        "http://127.0.0.1:3000",
        "http://[::1]:3000",
        "https://10.1.2.3",
        "http://192.168.0.9",
    ):
        assert check_target(url, allow_public=False, confirm_host=None)


def test_public_targets_need_the_flag_and_the_host_confirmed() -> None:
    with pytest.raises(SafetyError, match=r"--allow-public-load --confirm-target 8\.8\.8\.8"):
        check_target("https://8.8.8.8", allow_public=False, confirm_host=None)
    with pytest.raises(SafetyError, match=r"--confirm-target 8\.8\.8\.8"):
        check_target("https://8.8.8.8", allow_public=True, confirm_host="8.8.4.4")
    assert check_target("https://8.8.8.8", allow_public=True, confirm_host="8.8.8.8") == "8.8.8.8"


def test_cli_refuses_a_public_target_before_connecting(capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.cli import main

    assert main(["load", "--target", "https://8.8.8.8", "--subscribers", "1"]) == 2
    assert "--confirm-target 8.8.8.8" in capsys.readouterr().err
