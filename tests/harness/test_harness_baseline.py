"""Expected-failure baselines, --exclude and --fail-on: matching, exit statuses, reports.

Pure matching is tested directly; the exit statuses through the real plugin with the stand-in
session (tests/support/session_standin.py, no network); one run of the installed command
against the embedded reference server proves a stale baseline exits 3 end to end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from session_standin import (
    BLANK,
    BLANK_PUBLIC,
    DELIVERY,
    EXTRA,
    HANDSHAKE,
    HEALTH,
    HEARTBEAT,
    StandIn,
    report,
    rows,
    run_suite,
    verdicts,
    write_json,
)
from timing import scaled

from conformance import cli
from conformance.baseline import (
    BaselineError,
    compare,
    load_baseline,
    parse_baseline,
    skeleton,
    write_baseline,
)
from conformance.reports.summary import exit_status
from conformance.verdicts import Level, Result, Verdict

pytest_plugins = ["pytester"]


def _result(rid: str, verdict: Verdict, level: Level = Level.MUST) -> Result:
    return Result(
        id=rid, requirement=rid.split("[", 1)[0], verdict=verdict, level=level, message="m"
    )


# -- pure matching ------------------------------------------------------------------------------


def test_exact_id_matches_only_that_case_and_brackets_are_literal() -> None:
    baseline = parse_baseline({"entries": [{"id": BLANK, "verdict": "fail"}]})
    assert baseline.expected_by(_result(BLANK, Verdict.FAIL)) is not None
    assert baseline.expected_by(_result(BLANK_PUBLIC, Verdict.FAIL)) is None
    # "[sse-user]" is not a character class: "sse.framing.blank-lines" must not match
    assert baseline.expected_by(_result("sse.framing.blank-lines", Verdict.FAIL)) is None
    assert baseline.expected_by(_result(BLANK, Verdict.WARN)) is None  # verdict must match


def test_glob_on_requirement_id_covers_every_case_of_it() -> None:
    baseline = parse_baseline([{"id": "sse.framing.*", "verdict": ["fail", "warn"]}])
    assert baseline.expected_by(_result(BLANK, Verdict.FAIL)) is not None
    assert baseline.expected_by(_result(BLANK_PUBLIC, Verdict.WARN)) is not None
    assert baseline.expected_by(_result(HEARTBEAT, Verdict.FAIL)) is None
    bracket_glob = parse_baseline([{"id": "sse.framing.blank-line[sse-*]"}])
    assert bracket_glob.expected_by(_result(BLANK_PUBLIC, Verdict.FAIL)) is not None


def test_compare_labels_expected_unexpected_and_stale() -> None:
    baseline = parse_baseline(
        {
            "server_version": "4.3.0",
            "entries": [
                {"id": BLANK, "verdict": "fail", "reason": "known"},
                {"id": HEALTH, "verdict": "fail", "reason": "fixed since"},
                {"id": "no.such.requirement", "verdict": "fail"},
                {"id": "delivery.*", "verdict": "fail"},  # only a deselected case names it
            ],
        }
    )
    results = [
        _result(BLANK, Verdict.FAIL),
        _result(HEALTH, Verdict.PASS),
        _result(HEARTBEAT, Verdict.FAIL),
    ]
    outcome = compare(
        baseline,
        results,
        not_run=[(DELIVERY, "delivery.update.arrives")],
        server_version="4.8.0",
    )
    assert outcome.labels == {BLANK: "expected", HEALTH: "stale", HEARTBEAT: "unexpected"}
    assert {s.entry.id: s.why for s in outcome.stale} == {
        HEALTH: "passed now (baseline expects fail)",
        "no.such.requirement": "did not run: no such case in this run's plan",
    }
    assert [e.id for e, _ in outcome.unresolved] == ["delivery.*"]
    assert outcome.notes and "4.3.0" in outcome.notes[0]
    assert exit_status(results, baseline=outcome) == 1  # the unexpected fail wins
    assert exit_status(results[:2], baseline=outcome) == 3  # else the stale entries
    assert exit_status(results[:2]) == 1  # without a baseline the expected fail counts


def test_an_errored_case_leaves_its_entry_unresolved_not_stale() -> None:
    baseline = parse_baseline([{"id": BLANK, "verdict": "fail"}])
    outcome = compare(baseline, [_result(BLANK, Verdict.ERROR)])
    assert not outcome.stale and outcome.unresolved
    assert exit_status([_result(BLANK, Verdict.ERROR)], baseline=outcome) == 2


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"entries": [{"verdict": "fail"}]}, "'id'"),
        ({"entries": [{"id": "x", "verdict": "pass"}]}, "cannot be expected"),
        ({"entries": [{"id": "x", "reasn": "typo"}]}, "unknown key"),
        ({"entries": {"id": "x"}}, "must be a list"),
        ("nope", "expected an object"),
    ],
)
def test_malformed_baselines_are_rejected_with_the_place(data: object, fragment: str) -> None:
    with pytest.raises(BaselineError, match=fragment):
        parse_baseline(data, source="b.json")


@pytest.mark.parametrize("name", ["b.json", "b.toml"])
def test_skeleton_round_trips_through_json_and_toml(tmp_path: Path, name: str) -> None:
    results = [
        _result(BLANK, Verdict.FAIL),
        _result(HEARTBEAT, Verdict.WARN, Level.SHOULD),
        _result(HEALTH, Verdict.PASS),
        _result(HANDSHAKE, Verdict.ERROR),  # harness problems are not baselined
        _result("x.info[y]", Verdict.WARN, Level.INFO),  # only MUST/SHOULD
    ]
    doc = skeleton(results, target="http://t.example", server_version='4.8 "q"')
    path = write_baseline(tmp_path / name, doc)
    if name.endswith(".toml"):
        assert tomllib.loads(path.read_text())["server_version"] == '4.8 "q"'
    loaded = load_baseline(path)
    assert [(e.id, sorted(e.verdicts)) for e in loaded.entries] == [
        (BLANK, [Verdict.FAIL]),
        (HEARTBEAT, [Verdict.WARN]),
    ]
    assert all(e.reason == "" and e.issue is None for e in loaded.entries)
    outcome = compare(loaded, results)
    assert outcome.expected_ids == {BLANK, HEARTBEAT} and not outcome.stale


# -- through the plugin (stand-in session) ------------------------------------------------------


def test_expected_only_failures_exit_0_and_stay_honest_in_the_report(
    pytester: pytest.Pytester,
) -> None:
    write_json(
        pytester.path / "b.json",
        {
            "target": "http://fake.example",
            "entries": [
                {"id": BLANK, "verdict": "fail", "reason": "we emit CRLF", "issue": "https://i/1"},
                {"id": HANDSHAKE, "verdict": "error", "reason": "proxy eats upgrades"},
            ],
        },
    )
    standin = StandIn(verdicts(blank="fail", handshake="error"))
    result = run_suite(pytester, standin, "--baseline", "b.json")
    result.assert_outcomes(passed=5, xfailed=2)
    assert result.ret == 0
    by_id = rows(pytester)
    assert by_id[BLANK]["verdict"] == "fail"  # the verdict is not rewritten
    assert by_id[BLANK]["baseline"] == "expected"
    assert by_id[HANDSHAKE]["baseline"] == "expected"
    assert by_id[HEALTH]["baseline"] is None
    data = report(pytester)
    assert data["summary"]["fail"] == 1
    assert data["baseline"]["expected"] == 2 and data["baseline"]["stale"] == []
    assert data["exit_status"] == 0
    out = result.stdout.str()
    assert "EXPECTED by the baseline (2)" in out and "we emit CRLF (https://i/1)" in out
    junit = ET.parse(pytester.path / "out" / "junit.xml").getroot()
    assert junit.get("failures") == "0" and junit.get("errors") == "0"
    skipped = junit.find(f".//testcase[@name='{BLANK}']/skipped")
    assert skipped is not None and "we emit CRLF" in skipped.get("message", "")


def test_an_unexpected_failure_exits_1(pytester: pytest.Pytester) -> None:
    write_json(pytester.path / "b.json", [{"id": BLANK, "verdict": "fail"}])
    result = run_suite(
        pytester, StandIn(verdicts(blank="fail", blank_public="fail")), "--baseline", "b.json"
    )
    result.assert_outcomes(passed=5, xfailed=1, failed=1)
    assert result.ret == 1
    assert rows(pytester)[BLANK_PUBLIC]["baseline"] == "unexpected"
    assert report(pytester)["baseline"]["unexpected"] == 1


def test_an_expected_failure_that_now_passes_is_stale_exit_3(pytester: pytest.Pytester) -> None:
    write_json(pytester.path / "b.json", [{"id": "sse.framing.blank-line", "verdict": "fail"}])
    result = run_suite(pytester, StandIn(verdicts()), "--baseline", "b.json")
    assert result.ret == 3
    assert rows(pytester)[BLANK]["baseline"] == "stale"
    stale = report(pytester)["baseline"]["stale"]
    assert [s["id"] for s in stale] == ["sse.framing.blank-line"]
    assert "passed now" in stale[0]["why"]
    assert "STALE BASELINE (1)" in result.stdout.str()
    junit = ET.parse(pytester.path / "out" / "junit.xml").getroot()
    failure = junit.find(".//testcase[@classname='baseline']/failure")
    assert failure is not None and failure.get("type") == "stale-baseline"


def test_entries_for_cases_deselected_by_k_are_not_stale(pytester: pytest.Pytester) -> None:
    write_json(pytester.path / "b.json", [{"id": DELIVERY, "verdict": "fail"}])
    result = run_suite(
        pytester, StandIn(verdicts(delivery="fail")), "--baseline", "b.json", "-k", "http"
    )
    assert result.ret == 0
    assert report(pytester)["baseline"]["unresolved"][0]["why"] == "not selected in this run"


@pytest.mark.slow
def test_write_baseline_then_run_with_it_round_trip(pytester: pytest.Pytester) -> None:
    table = verdicts(blank="fail", heartbeat="warn")
    first = run_suite(pytester, StandIn(table), "--write-baseline", "base/b.json")
    assert first.ret == 1
    doc = json.loads((pytester.path / "base" / "b.json").read_text())
    assert [(e["id"], e["verdict"], e["reason"]) for e in doc["entries"]] == [
        (BLANK, "fail", ""),
        (HEARTBEAT, "warn", ""),
    ]
    assert doc["target"] == "http://fake.example" and doc["server_version"] == "4.8.0"
    second = run_suite(pytester, StandIn(table), "--baseline", "base/b.json", "--fail-on", "warn")
    assert second.ret == 0
    third = run_suite(pytester, StandIn(verdicts(blank="fail")), "--baseline", "base/b.json")
    assert third.ret == 3  # the warning is gone: its entry is stale


def test_a_bad_baseline_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    (pytester.path / "b.json").write_text("{not json")
    result = run_suite(pytester, StandIn(verdicts()), "--baseline", "b.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert cli.main(["run", "--baseline", str(pytester.path / "missing.json")]) == 2


def _deselected(result: pytest.RunResult) -> int:
    return result.parseoutcomes().get("deselected", 0)


def test_exclude_deselects_and_lists_the_cases(pytester: pytest.Pytester) -> None:
    standin = StandIn(verdicts(blank="fail", blank_public="fail"))
    placeholders = _deselected(run_suite(pytester, standin))  # case modules with no case
    result = run_suite(
        pytester, standin, "--exclude", "sse.framing.*", "--exclude", "events.unknown"
    )
    result.assert_outcomes(passed=5, deselected=placeholders + 2)
    assert result.ret == 0
    data = report(pytester)
    ids = {row["id"] for row in data["results"]}
    assert BLANK not in ids and BLANK_PUBLIC not in ids and EXTRA not in ids
    assert data["excluded"] == [BLANK_PUBLIC, BLANK]
    assert data["settings"]["exclude"] == ["sse.framing.*", "events.unknown"]
    assert "excluded: 2 case(s) not run" in result.stdout.str()


def test_exclude_from_the_environment_and_an_exact_id(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    placeholders = _deselected(run_suite(pytester, StandIn(verdicts())))
    monkeypatch.setenv("MSC_EXCLUDE", f"{BLANK}, nothing.matches")
    result = run_suite(pytester, StandIn(verdicts(blank="fail")))
    result.assert_outcomes(passed=6, deselected=placeholders + 1)
    assert result.ret == 0
    assert report(pytester)["excluded"] == [BLANK]


def test_fail_on_warn_makes_a_warning_fail_the_run(pytester: pytest.Pytester) -> None:
    table = verdicts(heartbeat="warn")
    assert run_suite(pytester, StandIn(table)).ret == 0
    result = run_suite(pytester, StandIn(table), "--fail-on", "warn")
    result.assert_outcomes(passed=6, failed=1)
    assert result.ret == 1
    assert report(pytester)["fail_on"] == "warn"
    assert "WARN (1):" in result.stdout.str()
    assert run_suite(pytester, StandIn(table), "--fail-on", "never").ret == 4  # usage error


def test_pytest_internal_error_3_is_not_read_as_a_stale_baseline() -> None:
    assert cli.map_pytest_status(3) == 2
    assert cli.map_pytest_status(3, reported=3) == 3
    assert cli.map_pytest_status(1, reported=1) == 1


# -- end to end ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_against_embedded_server_with_a_stale_baseline_exits_3(tmp_path: Path) -> None:
    """The reference server passes the health check, so a baseline expecting it to fail is
    stale: the real command must exit 3 and say so."""
    baseline = write_json(
        tmp_path / "b.json",
        {"entries": [{"id": HEALTH, "verdict": "fail", "reason": "pretend it is broken"}]},
    )
    report_dir = tmp_path / "report"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--embedded-heartbeat",
            "1",
            "--heartbeat-timeout",
            "2.5",
            "--baseline",
            str(baseline),
            "--report-dir",
            str(report_dir),
            "-k",
            "http.health",
            "--",
            "-q",
            "-p",
            "no:randomly",
        ],
        capture_output=True,
        text=True,
        timeout=scaled(300),
        cwd=tmp_path,
        check=False,
    )
    tail = proc.stdout[-4000:] + proc.stderr[-2000:]
    assert proc.returncode == 3, tail
    data = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert data["summary"]["fail"] == 0
    assert [s["id"] for s in data["baseline"]["stale"]] == [HEALTH]
    assert "STALE BASELINE (1)" in proc.stdout
