"""Acceptance: replaying Mastodon's captures judges each one as ``_verdicts.json`` says, and the
``replay``/``list`` entry points keep their exit-code and report contracts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.replay import (
    capture_expectations,
    load_path,
    replay_main,
    replay_results,
)
from conformance.requirements.listing import list_main
from conformance.transcript.captures import load_capture
from conformance.transcript.model import write_transcripts
from conformance.verdicts import Verdict

CAPTURES = Path(__file__).resolve().parents[3] / "shared" / "captures" / "mastodon-4.8.0-alpha.1"


def _capture_ids() -> list[str]:
    verdicts = CAPTURES / "_verdicts.json"
    if not verdicts.is_file():
        return []
    return sorted(json.loads(verdicts.read_text())["captures"])


@pytest.fixture(scope="module")
def judged(captures_dir: Path) -> dict[str, list]:  # type: ignore[type-arg]
    out: dict[str, list] = {}  # type: ignore[type-arg]
    for result in replay_results(load_path(captures_dir)):
        out.setdefault(result.transcript or "", []).append(result)
    return out


@pytest.mark.parametrize("capture", _capture_ids())
def test_capture_judged_as_labelled(capture: str, judged: dict, capture_verdicts: dict) -> None:  # type: ignore[type-arg]
    results = judged.get(capture, [])
    failures = [
        (r.id, r.message[:200]) for r in results if r.verdict in (Verdict.FAIL, Verdict.ERROR)
    ]
    if capture_verdicts[capture] == "conformant":
        assert not failures, failures
    else:
        assert failures, f"{capture} is nonconformant but nothing failed"


def test_nonconformant_captures_fail_for_the_documented_reason(judged: dict) -> None:  # type: ignore[type-arg]
    def failed(capture: str) -> set[str]:
        return {r.requirement for r in judged[capture] if r.verdict is Verdict.FAIL}

    assert "http.sse.not-cut" in failed("crash-01-update-string-payload-on-public")
    assert "payload.schema.valid" in failed("sse-22-user-passthrough-and-malformed")
    assert {"payload.ws.string", "payload.schema.valid"} <= failed("ws-30-user-payload-encoding")
    unknown = [
        r
        for r in judged["sse-22-user-passthrough-and-malformed"]
        if r.requirement == "events.name.documented"
    ]
    assert unknown and all(r.verdict is Verdict.INFO for r in unknown)


def test_capture_expectations_come_from_the_request(captures_dir: Path) -> None:
    def expect(name: str) -> dict:  # type: ignore[type-arg]
        return capture_expectations(load_capture(captures_dir / f"{name}.jsonl").meta)

    assert expect("sse-err-01-user-no-token")["expect_error"] == "Missing access token"
    assert expect("sse-err-19-bearer-lowercase")["expect_error"] == "Invalid access token"
    assert expect("sse-err-12-list-not-owned")["expect_status"] == 401
    assert expect("sse-err-23-hashtag-tag-repeated")["expect_status"] == 500
    assert expect("sse-err-18-user-notification-scope-read-statuses")["expect_error"].startswith(
        "Access token does not have"
    )
    assert expect("ws-27-subprotocol-list") == {
        "purpose": "error",
        "expect_status": 401,
        "expect_error": "Invalid access token",
    }
    assert expect("ws-28-bad-websocket-version")["expect_status"] == 400
    assert expect("sse-01-user") == {}


def test_replay_main_on_captures_writes_report_and_fails(
    captures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = replay_main(captures_dir, report_dir=tmp_path)
    assert code == 1
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["mode"] == "replay" and report["target"] == f"replay:{captures_dir}"
    assert report["summary"]["fail"] >= 3
    assert all(row["transcript"] for row in report["results"])
    assert len({row["id"] for row in report["results"]}) == len(report["results"])
    assert "replay:" in capsys.readouterr().out


def test_replay_main_on_one_conformant_capture_passes(captures_dir: Path, tmp_path: Path) -> None:
    assert replay_main(captures_dir / "sse-01-user.jsonl", report_dir=tmp_path) == 0


def test_replay_main_on_a_run_directory(captures_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    transcripts = [
        load_capture(captures_dir / "sse-03-public.jsonl"),
        load_capture(captures_dir / "crash-01-update-string-payload-on-public.jsonl"),
    ]
    write_transcripts(run / "transcripts" / "all.jsonl", transcripts)
    assert len(load_path(run)) == 2
    assert replay_main(run, report_dir=tmp_path / "out") == 1
    write_transcripts(run / "transcripts" / "all.jsonl", transcripts[:1])
    assert replay_main(run / "transcripts" / "all.jsonl", report_dir=tmp_path / "out2") == 0


def test_replay_main_unreadable_input(tmp_path: Path) -> None:
    assert replay_main(tmp_path / "missing", report_dir=tmp_path) == 2
    (tmp_path / "bad.jsonl").write_text("not json\n")
    assert replay_main(tmp_path / "bad.jsonl", report_dir=tmp_path) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert replay_main(empty, report_dir=tmp_path) == 2


def test_list_main_formats(capsys: pytest.CaptureFixture[str]) -> None:
    assert list_main("json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"id", "level", "source", "clause", "description"} <= set(rows[0])
    assert any(r["id"] == "sse.framing.blank-line-terminates-event" for r in rows)
    assert list_main("text") == 0
    assert "http.sse.status-200" in capsys.readouterr().out
    assert list_main("yaml") == 2
