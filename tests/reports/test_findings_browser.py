"""report.html and compare.html in headless Chromium at 1400 px and 700 px: findings lead the
page, and the screenshots are real pages (not blank, not clipped to nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from findings_fixtures import cut_run, no_sse_run, three_fault_run
from test_html_report_browser import CHROMIUM, _chromium, _png_size_and_pixels

from conformance.reports.compare import write_comparison
from conformance.reports.json_report import RunInfo
from conformance.reports.run_reports import write_judged_reports

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("pages")
    dirs = []
    for name, run, version in (
        ("three", three_fault_run(), "4.8.0"),
        ("cut", cut_run(), "4.8.0"),
        ("nosse", no_sse_run(), "2.7.2 (compatible; GoToSocial 0.19.1)"),
    ):
        results, transcripts = run
        info = RunInfo(
            target="http://127.0.0.1:1",
            started_at="2026-01-01T00:00:00Z",
            duration_s=1.0,
            extra={"server_version": version},
        )
        write_judged_reports(base / name, info, results, transcripts=transcripts)
        dirs.append(base / name)
    paths = write_comparison(dirs, base / "compare")
    return {"report": base / "three" / "report.html", "compare": paths["html"]}


@pytest.mark.parametrize("width", [1400, 700])
@pytest.mark.parametrize("page", ["report", "compare"])
def test_screenshot(pages: dict[str, Path], page: str, width: int, tmp_path: Path) -> None:
    shot = tmp_path / f"{page}-{width}.png"
    _chromium(
        tmp_path / "profile",
        f"--window-size={width},1000",
        f"--screenshot={shot}",
        pages[page].as_uri(),
    )
    w, h, pixels = _png_size_and_pixels(shot.read_bytes())
    assert (w, h) == (width, 1000)
    assert len(set(pixels)) > 64  # text, colours: not a blank page


def test_findings_lead_the_page_after_scripts_ran(pages: dict[str, Path], tmp_path: Path) -> None:
    out = _chromium(tmp_path / "profile", "--dump-dom", pages["report"].as_uri())
    dom = out.stdout
    assert dom.index('id="findings"') < dom.index('id="capabilities"') < dom.index('id="matrix"')
    assert dom.count('class="finding v-fail"') == 3
    assert 'data-finding="payload.ws.string"' in dom
