"""Shared fixtures for the self-tests: where the repo and the recorded Mastodon captures live.

The captures sit beside the checkout (``../shared/captures/...``) both here and in CI; the
``MSC_CAPTURES_DIR`` environment variable points elsewhere when needed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CAPTURE_VERSION = "mastodon-4.8.0-alpha.1"


def captures_path() -> Path:
    override = os.environ.get("MSC_CAPTURES_DIR")
    if override:
        return Path(override)
    return REPO_ROOT.parent / "shared" / "captures" / CAPTURE_VERSION


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def captures_dir() -> Path:
    path = captures_path()
    if not path.is_dir():
        pytest.fail(f"captures not found at {path} (set MSC_CAPTURES_DIR)")
    return path


@pytest.fixture(scope="session")
def capture_verdicts(captures_dir: Path) -> dict[str, str]:
    data = json.loads((captures_dir / "_verdicts.json").read_text(encoding="utf-8"))
    return {name: entry["expect"] for name, entry in data["captures"].items()}
