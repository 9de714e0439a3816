"""The whole suite through the installed command against the embedded reference server.

This is the integration proof of every part at once (plan, recorders, stimulus, judges,
reference server, plugin, reports): the reference server must conform, so the run must exit 0
with no ``fail`` in report.json, and leave transcripts that ``replay`` can read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from suite_command import run_embedded
from timing import scaled

from conformance.transcript.model import read_transcripts

RUN_TIMEOUT_S = scaled(600)


@pytest.mark.slow
def test_run_against_embedded_server_exits_0_with_no_failures(tmp_path: Path) -> None:
    report_dir = tmp_path / "report"
    proc = run_embedded(report_dir, timeout_s=RUN_TIMEOUT_S)
    tail = proc.stdout[-6000:] + proc.stderr[-3000:]
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    failing = [r["id"] for r in report["results"] if r["verdict"] in ("fail", "error")]
    assert report["summary"]["fail"] == 0, f"failing: {failing}\n{tail}"
    assert report["summary"]["error"] == 0, f"errors: {failing}\n{tail}"
    assert proc.returncode == 0, tail
    assert report["summary"]["pass"] > 100
    assert report["embedded"] is True and report["is_reference"] is True

    assert (report_dir / "junit.xml").is_file()
    files = sorted((report_dir / "transcripts").glob("*.jsonl"))
    assert files, "no transcripts written"
    assert all(read_transcripts(f) for f in files)
    artifacts = "\n".join(
        p.read_text(encoding="utf-8") for p in report_dir.rglob("*") if p.is_file()
    )
    leaked = re.findall(
        r"Bearer (?!REDACTED)[A-Za-z0-9_\-]{8,}|access_token=(?!REDACTED)\w{8,}",
        artifacts + proc.stdout + proc.stderr,
    )
    assert not leaked, f"tokens in artifacts or output: {leaked[:3]}"
    assert not (tmp_path / "reports").exists()  # --report-dir is honoured exactly
