"""Complete cleanup: a run removes what it caused (notifications, uploaded media), so two runs in
a row against one server give the same verdicts, also against a server that, like some real
ones, never repeats an identical notification (the reference's ``dedupe-notifications`` knob).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from reference_proc import reference_server
from timing import scaled

CLI = [sys.executable, "-c", "import sys; from conformance.cli import main; sys.exit(main())"]
FAST = ["--embedded-heartbeat", "1", "--heartbeat-timeout", "2.5"]


def _env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": root}


@pytest.fixture
def deduping() -> Iterator[dict[str, Any]]:
    with reference_server("--heartbeat", "1", "--fault", "dedupe-notifications") as line:
        yield line


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _notifications(ref: dict[str, Any]) -> list[list[str]]:
    return [
        [
            n["id"]
            for n in httpx.get(
                f"{ref['url']}/api/v1/notifications",
                headers=_auth(acc["token"]),
                timeout=scaled(10),
            ).json()
        ]
        for acc in ref["accounts"][:2]
    ]


def _run(ref: dict[str, Any], report: Path) -> dict[str, Any]:
    a, b = ref["accounts"][0], ref["accounts"][1]
    done = subprocess.run(
        [
            *CLI,
            "run",
            "--target",
            ref["url"],
            f"--token={a['token']}",
            f"--second-token={b['token']}",
            "--report-dir",
            str(report),
            *FAST,
        ],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=scaled(180),
    )
    assert done.returncode == 0, done.stdout[-3000:]
    data: dict[str, Any] = json.loads((report / "report.json").read_text())
    return data


def test_the_dedupe_knob_suppresses_a_repeated_notification_until_dismissed(
    deduping: dict[str, Any],
) -> None:
    """The knob bites: the second identical follow notification is not created, unless the
    first was dismissed (what the run's cleanup now does)."""
    url, (a, b) = deduping["url"], deduping["accounts"][:2]
    with httpx.Client(base_url=url, timeout=scaled(10)) as http:

        def follow_cycle() -> list[dict[str, Any]]:
            http.post(f"/api/v1/accounts/{a['id']}/follow", headers=_auth(b["token"]))
            http.post(f"/api/v1/accounts/{a['id']}/unfollow", headers=_auth(b["token"]))
            got = http.get("/api/v1/notifications", headers=_auth(a["token"])).json()
            return [n for n in got if n["type"] == "follow"]

        first = follow_cycle()
        assert len(first) == 1
        assert follow_cycle() == first  # suppressed: still the one notification
        dismissed = http.post(
            f"/api/v1/notifications/{first[0]['id']}/dismiss", headers=_auth(a["token"])
        )
        assert dismissed.status_code == 200
        again = follow_cycle()
        assert len(again) == 1 and again[0]["id"] != first[0]["id"]


@pytest.mark.slow
def test_two_runs_in_a_row_give_the_same_verdicts(deduping: dict[str, Any], tmp_path: Path) -> None:
    before = _notifications(deduping)
    first = _run(deduping, tmp_path / "one")
    assert first["cleanup_not_removed"] == []
    assert _notifications(deduping) == before  # the run's notifications are dismissed
    second = _run(deduping, tmp_path / "two")
    assert second["cleanup_not_removed"] == []

    def verdicts(report: dict[str, Any]) -> dict[str, str]:
        return {r["id"]: r["verdict"] for r in report["results"]}

    assert verdicts(second) == verdicts(first)
    assert verdicts(second)["delivery.follow.notifies[sse-user-notification]"] == "pass"
    assert second["summary"]["fail"] == 0 and second["summary"]["error"] == 0
