"""Version strings of real servers: which Mastodon API version each claims, and what is gated."""

from __future__ import annotations

import pytest

from conformance.config import SettingsError, resolve_settings
from conformance.payloads.versions import added_after, claimed_api_version, read_version
from conformance.session.capabilities import gated_steps

#: (version string as the server reports it, claimed Mastodon API version or None)
REAL_VERSIONS = [
    ("4.8.0-alpha.1", (4, 8, 0)),  # the captures
    ("4.4.0-nightly.2025-02-05", (4, 4, 0)),  # Mastodon nightly
    ("4.3.2+glitch", (4, 3, 2)),  # glitch-soc
    ("3.5.3 (compatible; GoToSocial 0.16.0)", (3, 5, 3)),  # GoToSocial, v1 instance
    ("0.19.1", None),  # GoToSocial, v2 instance: its own version
    ("0.20.0-rc1 git-ccd6b2c", None),  # GoToSocial release candidate
    ("0.0.0-c2ba6be9", None),  # GoToSocial development build
    ("2.7.2 (compatible; Akkoma 3.13.2)", (2, 7, 2)),
    ("2.7.2 (compatible; Pleroma 2.5.0)", (2, 7, 2)),
    ("4.2.1 (compatible; Iceshrimp.NET/v2025.1-beta5.security1+3c19b5a9b1)", (4, 2, 1)),
    ("2024.11.1", None),  # Sharkey (calendar version)
    ("dev", None),
]


@pytest.mark.parametrize(("text", "claim"), REAL_VERSIONS)
def test_claimed_api_version(text: str, claim: tuple[int, int, int] | None) -> None:
    assert claimed_api_version(text) == claim


def test_software_is_named_from_the_compatible_parenthesis() -> None:
    akkoma = read_version("2.7.2 (compatible; Akkoma 3.13.2)")
    assert akkoma is not None and (akkoma.software, akkoma.software_version) == ("Akkoma", "3.13.2")
    ice = read_version("4.2.1 (compatible; Iceshrimp.NET/v2025.1-beta5)")
    assert ice is not None and ice.software == "Iceshrimp.NET"
    dev = read_version("0.0.0-c2ba6be9")
    assert dev is not None and dev.development and dev.api is None


def test_gotosocial_is_not_judged_older_than_edits() -> None:
    # issue 10: "0.19.1" was read as Mastodon 0.19 and edits/filters were skipped
    assert gated_steps("0.19.1", {"rest"}).keys() <= {"AN", "AR", "AD"}
    assert "E" not in gated_steps("0.0.0-c2ba6be9", {"rest"})


def test_a_real_old_claim_still_gates() -> None:
    gated = gated_steps("3.4.1", {"rest"})
    assert "E" in gated and "edits" in gated["E"]
    assert "E" not in gated_steps("3.5.3 (compatible; GoToSocial 0.16.0)", {"rest"})
    assert "NM" in gated_steps("2.7.2 (compatible; Pleroma 2.5.0)", {"rest"})


def test_attributes_are_gated_only_by_a_claim() -> None:
    assert added_after("4.0.0", "3.5.3 (compatible; GoToSocial 0.16.0)")
    assert not added_after("4.0.0", "0.19.1")  # no claim: judged as the newest
    assert not added_after("4.0.0", "4.4.0-nightly.2025-02-05")


def test_api_version_option_overrides_and_is_validated() -> None:
    assert resolve_settings({"api_version": "4.2"}, {}).api_version == "4.2"
    assert resolve_settings({}, {"MSC_API_VERSION": "4.3.0"}).api_version == "4.3.0"
    with pytest.raises(SettingsError):
        resolve_settings({}, {"MSC_API_VERSION": "0.19.1"})
