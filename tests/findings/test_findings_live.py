"""The issue's "done when", live: mutant reference servers, the whole session, then the reports.

* ``--fault sse-crlf --fault leak-private --fault ws-payload-object``: exactly three findings at
  the top of the terminal summary, summary.md (under 60 lines, valid Markdown) and report.html,
  each with its consequences beneath it;
* ``--fault sse-cut-mid-event``: ``http.sse.not-cut`` first, the "never arrived" cases under it;
* ``--fault no-sse`` (every SSE path 404): one SSE capability finding, SSE ✗ in the capability
  table, exit status 1.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.config import Settings
from conformance.discovery import discover
from conformance.embedded import start_embedded
from conformance.reports.run_reports import write_run_reports
from conformance.reports.summary import exit_status, summary_lines
from conformance.session import run_session

pytestmark = pytest.mark.slow
HEARTBEAT_S = 1.0
HEARTBEAT_TIMEOUT_S = 2.5
RUN_DEADLINE_S = 180.0


def _live(faults: list[str], report_dir: Path) -> dict[str, Any]:
    args = [a for fault in faults for a in ("--fault", fault)]
    server = start_embedded(heartbeat_s=HEARTBEAT_S, extra_args=args)
    try:
        alice, bob = server.accounts[0], server.accounts[1]
        settings = Settings(
            target=server.url,
            token=alice.token,
            second_token=bob.token,
            heartbeat_timeout_s=HEARTBEAT_TIMEOUT_S,
        )

        async def go() -> Any:
            target = await discover(settings)
            return await asyncio.wait_for(run_session(settings, target), RUN_DEADLINE_S)

        outcome = asyncio.run(go())
    finally:
        server.stop()
    results = [*outcome.results.values(), *outcome.extra_results]
    status = exit_status(results)
    write_run_reports(
        report_dir,
        target=server.url,
        started_at=outcome.started_at,
        duration_s=outcome.duration_s,
        results=results,
        transcripts=outcome.transcripts,
        extra={"exit_status": status, "server_version": "4.8.0-alpha.1"},
    )
    lines = summary_lines(results, target=server.url, transcripts=outcome.transcripts)
    return {
        "lines": lines,
        "status": status,
        "json": json.loads((report_dir / "report.json").read_text()),
        "md": (report_dir / "summary.md").read_text(encoding="utf-8"),
        "html": (report_dir / "report.html").read_text(encoding="utf-8"),
    }


def _finding_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("  ") and ". " in line[:8]]


def test_three_faults_give_three_findings_everywhere(tmp_path: Path) -> None:
    run = _live(["sse-crlf", "leak-private", "ws-payload-object"], tmp_path)
    assert run["status"] == 1
    ids = [f["id"] for f in run["json"]["findings"]]
    assert sorted(ids) == [
        "delivery.private-status.excluded",
        "payload.ws.string",
        "sse.framing.lf-line-endings",
    ]
    ws = run["json"]["findings"][ids.index("payload.ws.string")]
    assert ws["explained_count"] > 50  # schema, delete ids, delete deliveries on the sockets
    assert run["lines"][2].startswith("FINDINGS (3)")
    assert len(_finding_lines(run["lines"])) == 3
    md = run["md"]
    assert len(md.splitlines()) < 60
    assert sum(1 for line in md.splitlines() if line.startswith("| ") and "| fail |" in line) == 3
    pytest.importorskip("markdown_it").MarkdownIt().enable("table").parse(md)
    assert run["html"].count('class="finding v-fail"') == 3


def test_cut_stream_shows_not_cut_first_with_the_never_arrived_cases(tmp_path: Path) -> None:
    run = _live(["sse-cut-mid-event"], tmp_path)
    first = run["json"]["findings"][0]
    assert first["id"] == "http.sse.not-cut"
    arrivals = [
        c
        for c in first["explains"]
        if c["verdict"] == "fail" and c["requirement"].startswith("delivery.")
    ]
    assert len(arrivals) >= 20
    assert all(c["because"].startswith("explained by `http.sse.not-cut` on sse-") for c in arrivals)
    assert "1. FAIL [MUST] http.sse.not-cut" in "\n".join(run["lines"])


def test_no_sse_is_one_finding_with_sse_crossed_out_and_exit_1(tmp_path: Path) -> None:
    run = _live(["no-sse"], tmp_path)
    assert run["status"] == 1
    assert [f["id"] for f in run["json"]["findings"]] == ["capability:sse"]
    caps = run["json"]["capabilities"]
    assert caps["transports"]["sse"]["state"] == "no"
    assert {cells["sse"]["symbol"] for cells in caps["streams"].values()} == {"✗ 404"}
    assert {cells["ws"]["symbol"] for cells in caps["streams"].values()} == {"✓"}
    assert "| user | ✗ 404 | ✓ |" in run["md"]
