"""summary.md (parses as Markdown, under 60 lines for any run) and ``compare`` (matrix cells
match the inputs, links point into each run's report.html)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from findings_fixtures import cut_run, no_sse_run, result, three_fault_run

from conformance.cli import main
from conformance.reports.json_report import RunInfo
from conformance.reports.run_reports import write_judged_reports
from conformance.verdicts import Verdict

markdown_it = pytest.importorskip("markdown_it")
CAPTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "captures"
RANK = {"fail": 0, "error": 1, "warn": 2, "not_exercised": 3, "info": 4, "pass": 5}


def _write(directory: Path, run: tuple[list, list], version: str) -> Path:
    results, transcripts = run
    info = RunInfo(
        target="http://127.0.0.1:1",
        started_at="2026-01-01T00:00:00Z",
        duration_s=1.0,
        extra={"server_version": version, "is_reference": True},
    )
    write_judged_reports(directory, info, results, transcripts=transcripts)
    return directory


def _tokens(text: str) -> list[str]:
    return [t.type for t in markdown_it.MarkdownIt().enable("table").parse(text)]


def test_summary_md_parses_leads_with_findings_and_stays_short(tmp_path: Path) -> None:
    run = _write(tmp_path / "three", three_fault_run(), "4.8.0")
    text = (run / "summary.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 60
    types = _tokens(text)
    assert types.count("table_open") >= 2  # capability table, findings table
    assert "(report.html)" in text
    assert (
        text.index("### Capabilities")
        < text.index("### Findings")
        < text.index("### Not exercised")
    )
    findings = text[text.index("### Findings") : text.index("### Not exercised")]
    assert [line.split("|")[1].strip() for line in findings.splitlines() if "| fail |" in line] == [
        "1",
        "2",
        "3",
    ]


def test_summary_md_stays_under_60_lines_for_a_huge_run(tmp_path: Path) -> None:
    results, transcripts = three_fault_run()
    results += [result(f"x.req-{n}", "sse-public") for n in range(200)]
    results += [result(f"y.req-{n}", "sse-user", Verdict.NOT_EXERCISED) for n in range(200)]
    run = _write(tmp_path / "huge", (results, transcripts), "4.8.0")
    text = (run / "summary.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 60
    assert "more in report.html" in text
    _tokens(text)


def test_report_json_carries_findings_and_capabilities(tmp_path: Path) -> None:
    run = _write(tmp_path / "nosse", no_sse_run(), "4.8.0")
    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    assert [f["id"] for f in report["findings"]] == ["capability:sse"]
    assert report["capabilities"]["transports"]["sse"]["symbol"] == "✗ 404"
    rows = {r["id"]: r for r in report["results"]}
    assert rows["errors.sse.missing-token[sse-err-missing-token]"]["finding"] == "capability:sse"
    html = (run / "report.html").read_text(encoding="utf-8")
    assert html.index('id="findings"') < html.index('id="capabilities"') < html.index('id="matrix"')


def test_compare_matrix_cells_match_the_inputs(tmp_path: Path) -> None:
    dirs = [
        _write(tmp_path / "a", three_fault_run(), "4.8.0"),
        _write(tmp_path / "b", cut_run(), "4.7.0"),
        _write(tmp_path / "c", no_sse_run(), "2.7.2 (compatible; GoToSocial 0.19.1)"),
    ]
    out = tmp_path / "cmp"
    assert main(["compare", *map(str, dirs), "--output", str(out)]) == 0
    html = (out / "compare.html").read_text(encoding="utf-8")
    md = (out / "compare.md").read_text(encoding="utf-8")
    assert "GoToSocial 0.19.1" in html and "reference server 4.7.0" in md
    for run in dirs:
        rows = json.loads((run / "report.json").read_text(encoding="utf-8"))["results"]
        worst: dict[str, str] = {}
        for row in rows:
            old = worst.get(row["requirement"])
            if old is None or RANK[row["verdict"]] < RANK[old]:
                worst[row["requirement"]] = row["verdict"]
        link = f"../{run.name}/report.html"
        for requirement, verdict in worst.items():
            cell = f'data-verdict="{verdict}" title="{requirement} on '
            assert cell in html, (run.name, requirement)
            assert f'href="{link}#req={requirement}"' in html
            assert f"({link}#req={requirement})" in md
            assert (out / link).resolve() == (run / "report.html").resolve()
    assert html.count("<tr data-requirement=") == len(
        {
            r["requirement"]
            for d in dirs
            for r in json.loads((d / "report.json").read_text())["results"]
        }
    )


@pytest.mark.skipif(not CAPTURES.is_dir(), reason="../shared/captures not present")
def test_compare_over_a_replay_of_the_mastodon_captures(tmp_path: Path) -> None:
    replayed = tmp_path / "mastodon"
    assert (
        main(["replay", str(CAPTURES / "mastodon-4.8.0-alpha.1"), "--report-dir", str(replayed)])
        == 1
    )
    summary = (replayed / "summary.md").read_text(encoding="utf-8")
    assert "`http.sse.not-cut`" in summary and len(summary.splitlines()) < 60
    faulty = _write(tmp_path / "faulty", three_fault_run(), "4.8.0")
    out = tmp_path / "cmp"
    assert main(["compare", str(replayed), str(faulty), "--output", str(out)]) == 0
    md = (out / "compare.md").read_text(encoding="utf-8")
    assert "[replay mastodon-4.8.0-alpha.1](../mastodon/report.html)" in md
    assert "(../mastodon/report.html#req=http.sse.not-cut)" in md


def test_report_json_validates_against_its_schema(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    root = Path(__file__).resolve().parents[2]
    schema = json.loads((root / "schemas" / "run-report.schema.json").read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    for name, run in (("a", three_fault_run()), ("b", cut_run()), ("c", no_sse_run())):
        report = json.loads((_write(tmp_path / name, run, "4.8.0") / "report.json").read_text())
        assert report["findings"], name
        assert not list(validator.iter_errors(report)), name
