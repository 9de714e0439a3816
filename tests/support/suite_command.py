"""The suite's command line for self-tests that run it as a user would (a subprocess)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

__all__ = ["suite_command"]


def suite_command() -> list[str]:
    """The installed ``mastodon-streaming-conformance`` beside this interpreter, else the one on
    PATH, else ``python -m conformance`` (a checkout without the console script)."""
    installed = Path(sys.executable).with_name("mastodon-streaming-conformance")
    if installed.exists():
        return [str(installed)]
    found = shutil.which("mastodon-streaming-conformance")
    return [found] if found else [sys.executable, "-m", "conformance"]
