"""report.json contract, JUnit mapping and exit statuses, on hand-built Results."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.redact import Redactor
from conformance.reports.run_reports import default_report_dir, write_run_reports
from conformance.reports.summary import exit_status, summary_lines
from conformance.transcript.model import Meta, Transcript, read_transcripts
from conformance.verdicts import Level, Result, Verdict

TOKEN = "tok-SECRET-0123456789"


def _result(case: str, verdict: Verdict, level: Level = Level.MUST, **kw: object) -> Result:
    return Result(
        id=f"{case}[sse-user]",
        requirement=case,
        verdict=verdict,
        level=level,
        message=kw.pop("message", f"{verdict.value} message"),
        transport="sse",
        stream="user",
        **kw,
    )  # type: ignore[arg-type]


RESULTS = [
    _result("a.pass", Verdict.PASS),
    _result(
        "b.fail",
        Verdict.FAIL,
        message=f"expected 200, observed 401 for {TOKEN}",
        evidence="HTTP/1.1 401 \x00bad",
    ),
    _result("c.warn", Verdict.WARN, Level.SHOULD),
    _result("d.info", Verdict.INFO, Level.INFO),
    _result("e.skip", Verdict.NOT_EXERCISED, message="needs --allow-public-posts"),
    _result("f.error", Verdict.ERROR, message="recorder crashed"),
]


def _write(tmp_path: Path, results: list[Result], **kw: object) -> dict[str, Path]:
    transcript = Transcript(
        meta=Meta(
            id="sse/user", transport="sse", request={"url": f"http://h/x?access_token={TOKEN}"}
        )
    )
    transcript.add(0.0, "connect")
    transcript.add(0.1, "body-chunk", data=f"data: {TOKEN}\n\n".encode())
    transcript.add(0.2, "end", how="client-close", detail="")
    return write_run_reports(
        tmp_path,
        target="http://127.0.0.1:4000",
        started_at="2026-01-02T03:04:05Z",
        duration_s=1.23456,
        results=results,
        transcripts=[transcript],
        redactor=Redactor([TOKEN]),
        extra={"settings": {"token": "<redacted>"}},
        **kw,
    )


def test_report_json_has_the_contract_keys_and_redacted_rows(tmp_path: Path) -> None:
    _write(tmp_path, RESULTS)
    report = json.loads((tmp_path / "report.json").read_text())
    assert {
        "target",
        "suite_version",
        "started_at",
        "duration_s",
        "summary",
        "results",
    } <= report.keys()
    assert report["target"] == "http://127.0.0.1:4000"
    assert report["started_at"] == "2026-01-02T03:04:05Z"
    assert report["duration_s"] == 1.235
    assert report["summary"] == {
        "pass": 1,
        "fail": 1,
        "warn": 1,
        "info": 1,
        "not_exercised": 1,
        "error": 1,
    }
    assert report["settings"] == {"token": "<redacted>"}
    rows = {row["id"]: row for row in report["results"]}
    fail = rows["b.fail[sse-user]"]
    assert {k: fail[k] for k in ("verdict", "level", "transport", "stream")} == {
        "verdict": "fail",
        "level": "MUST",
        "transport": "sse",
        "stream": "user",
    }
    assert fail["message"] == "expected 200, observed 401 for REDACTED"
    assert TOKEN not in (tmp_path / "report.json").read_text()


def test_junit_maps_each_verdict_to_the_right_element(tmp_path: Path) -> None:
    _write(tmp_path, RESULTS)
    root = ET.parse(tmp_path / "junit.xml").getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert (
        suite.get("tests"),
        suite.get("failures"),
        suite.get("errors"),
        suite.get("skipped"),
    ) == ("6", "1", "1", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {r.id for r in RESULTS}
    assert [c.tag for c in cases["a.pass[sse-user]"]] == []
    failure = cases["b.fail[sse-user]"].find("failure")
    assert failure is not None and "REDACTED" in (failure.get("message") or "")
    assert "\\x00bad" in (failure.text or "")  # control characters escaped, XML stays valid
    assert cases["f.error[sse-user]"].find("error") is not None
    skipped = cases["e.skip[sse-user]"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "not_exercised: needs --allow-public-posts"
    assert cases["c.warn[sse-user]"].find("failure") is None
    assert "warn" in (cases["c.warn[sse-user]"].findtext("system-out") or "")
    assert cases["b.fail[sse-user]"].get("classname") == "b.fail"


def test_junit_under_strict_turns_warnings_into_failures(tmp_path: Path) -> None:
    _write(tmp_path, RESULTS, strict=True)
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "2"


def test_transcripts_are_written_redacted_and_readable(tmp_path: Path) -> None:
    paths = _write(tmp_path, RESULTS)
    files = sorted(paths["transcripts"].glob("*.jsonl"))
    assert [f.name for f in files] == ["sse_user.jsonl"]
    assert TOKEN not in files[0].read_text()
    (back,) = read_transcripts(files[0])
    assert back.meta.id == "sse/user"
    assert back.body == b"data: REDACTED\n\n"


@pytest.mark.parametrize(
    ("verdicts", "strict", "status"),
    [
        ([Verdict.PASS, Verdict.INFO, Verdict.NOT_EXERCISED], False, 0),
        ([Verdict.PASS, Verdict.WARN], False, 0),
        ([Verdict.PASS, Verdict.WARN], True, 1),
        ([Verdict.FAIL, Verdict.ERROR], False, 1),
        ([Verdict.PASS, Verdict.ERROR], False, 2),
        ([], False, 0),
    ],
)
def test_exit_status(verdicts: list[Verdict], strict: bool, status: int) -> None:
    results = [_result(f"r.n{i}", v) for i, v in enumerate(verdicts)]
    assert exit_status(results, strict=strict) == status


def test_summary_lists_failures_and_errors_with_their_messages() -> None:
    lines = summary_lines(RESULTS, target="http://t")
    assert lines[1] == ("summary: 1 pass, 1 fail, 1 warn, 1 info, 1 not_exercised, 1 error")
    text = "\n".join(lines)
    assert "b.fail[sse-user] [MUST]: expected 200, observed 401" in text
    assert "FAIL (1):" in text and "ERROR (1):" in text
    assert "WARN (" not in text  # warnings show as findings, not as a listing
    assert "WARN (1):" in "\n".join(summary_lines(RESULTS, target="http://t", strict=True))


def test_default_report_dir_is_host_and_utc_timestamp(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    path = default_report_dir(tmp_path, "https://mastodon.example:8443/x", when)
    assert path == tmp_path / "reports" / "mastodon.example-20260506T070809Z"
