"""Shared fixtures for the self-tests: where the repo and the recorded Mastodon captures live.

The captures sit beside the checkout (``../shared/captures/...``) both here and in CI; the
``MSC_CAPTURES_DIR`` environment variable points elsewhere when needed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from timing import scaled

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


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A throw-away ``redis-server`` on a free loopback port, for one test module.

    Skips with the reason when the binary is missing (``scripts/test.sh`` installs it, so CI
    never skips); no persistence, stopped when the module is done.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server binary not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + scaled(10)
        while True:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)  # polling a child's startup: no event to wait on
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(scaled(5))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(scaled(5))
