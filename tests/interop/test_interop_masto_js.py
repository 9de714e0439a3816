"""masto.js (pinned in tests/interop/js/package.json) against the reference server, over node.

``js/stream.mjs`` does what Elk and Phanpy do: discover the streaming URL from
``/api/v2/instance``, open one WebSocket with the token as subprotocol, subscribe by message to
``public:local``, ``hashtag`` and ``user``, and cause events with masto.js's REST client. masto.js
keeps a frame only if its ``stream`` array holds the subscribed name and every parameter value,
so the hashtag subscription (``InteropJS``) receives posts tagged ``#interopjs`` only if the
server echoes the tag as sent. It JSON-parses every payload except ``delete`` and throws on
``error`` frames (the script then exits 2).

``scripts/setup.sh --interop`` (run by ``scripts/test.sh``) installs node_modules with ``npm ci``;
without node or node_modules the test skips and says which is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from interop_support import Served, reference_server
from timing import scaled

JS_DIR = Path(__file__).resolve().parent / "js"
SCRIPT = JS_DIR / "stream.mjs"
TAG = "InteropJS"
SCRIPT_DEADLINE_S = scaled(20)
PROCESS_DEADLINE_S = SCRIPT_DEADLINE_S + scaled(10)
SUBS = {"public:local": ["public:local"], "hashtag": ["hashtag", TAG], "user": ["user"]}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (masto.js needs Node.js; see scripts/setup.sh)")
    if not (JS_DIR / "node_modules" / "masto" / "package.json").is_file():
        pytest.skip("tests/interop/js/node_modules missing: run `bash scripts/setup.sh --interop`")
    return node


@pytest.fixture
def served() -> Iterator[Served]:
    with reference_server("--heartbeat", "1") as line:
        yield line


def run_script(node: str, served: Served) -> tuple[int, list[dict[str, Any]], str]:
    env = {
        **os.environ,
        "MSC_INTEROP_URL": served.url,
        "MSC_INTEROP_TOKEN": served.alice["token"],
        "MSC_INTEROP_SECOND_TOKEN": served.bob["token"],
        "MSC_INTEROP_TAG": TAG,
        "MSC_INTEROP_TIMEOUT_S": f"{SCRIPT_DEADLINE_S:g}",
    }
    done = subprocess.run(
        [node, str(SCRIPT)],
        cwd=JS_DIR,
        env=env,
        capture_output=True,
        timeout=PROCESS_DEADLINE_S,
        check=False,
    )
    stdout = done.stdout.decode("utf-8", "replace")
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return done.returncode, lines, stdout + done.stderr.decode("utf-8", "replace")[-2000:]


def test_masto_js_streams_a_status_lifecycle(served: Served) -> None:
    node = _node()
    code, lines, output = run_script(node, served)
    assert code == 0, f"masto.js script failed (exit {code}):\n{output}"
    assert not [line for line in lines if line["kind"] == "error"], output

    (discovered,) = [line for line in lines if line["kind"] == "discovered"]
    assert discovered["streaming"] == served.streaming_url
    assert discovered["version"] == "4.8.0-alpha.1"
    (done,) = [line for line in lines if line["kind"] == "done"]
    status_id = done["status_id"]
    events = [line for line in lines if line["kind"] == "event"]

    for sub, stream in SUBS.items():
        mine = [e for e in events if e["sub"] == sub and e["id"] == status_id]
        assert [e["event"] for e in mine] == ["update", "status.update", "delete"], mine
        for event in mine:
            assert event["stream"] == stream, event
            expected_type = "string" if event["event"] == "delete" else "object"
            assert event["payload_type"] == expected_type, event
        assert f"#<span>{TAG.lower()}</span>" in mine[0]["content"]
        assert "edited" in mine[1]["content"]

    notifications = [e for e in events if e["event"] == "notification"]
    assert [(n["sub"], n["type"], n["status_id"]) for n in notifications] == [
        ("user", "favourite", status_id)
    ]
