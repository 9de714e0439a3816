"""report.html in a real headless Chromium: the DOM after the page's script ran, and a screenshot.

``--dump-dom`` prints the DOM once the page loaded and its scripts ran, so the assertions see
what a reader sees: counts, the failing case's expected/observed text, the verdict classes, and
the JS filter applied from the URL fragment (rows hidden with the ``hidden`` attribute).
Chromium is installed by ``scripts/setup.sh --browser`` (called from ``scripts/test.sh``).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from timing import scaled

from conformance.reports.html import write_html_report
from conformance.reports.json_report import RunInfo
from conformance.verdicts import Level, Result, Verdict

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh --browser installs it)"
)
TIMEOUT_S = 90
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
RESULTS = [
    Result(
        id="http.sse.status-200[sse-user]",
        requirement="http.sse.status-200",
        verdict=Verdict.FAIL,
        level=Level.MUST,
        message="expected HTTP status 200; observed 503 Service Unavailable",
        transport="sse",
        stream="user",
        evidence="b'HTTP/1.1 503 Service Unavailable\\r\\n'",
        transcript="sse-user",
    ),
    Result(
        id="http.sse.cache-control-no-store[sse-user]",
        requirement="http.sse.cache-control-no-store",
        verdict=Verdict.WARN,
        level=Level.SHOULD,
        message="expected Cache-Control: no-store; observed absent",
        transport="sse",
        stream="user",
        transcript="sse-user",
    ),
    Result(
        id="http.sse.opening-comment[sse-user]",
        requirement="http.sse.opening-comment",
        verdict=Verdict.INFO,
        level=Level.INFO,
        message="opening comment ':)' observed",
        transport="sse",
        stream="user",
    ),
    Result(
        id="delivery.announcement.arrives[ws-user]",
        requirement="delivery.announcement.arrives",
        verdict=Verdict.NOT_EXERCISED,
        level=Level.MUST,
        message="needs the reference server's announcement endpoint",
        transport="ws",
        stream="user",
    ),
    Result(
        id="auth.sse.token-header[sse-user]",
        requirement="auth.sse.token-header",
        verdict=Verdict.PASS,
        level=Level.MUST,
        message="token in the header accepted (200)",
        transport="sse",
        stream="user",
    ),
]


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cases: list[dict[str, str | None]] = []
        self.body: dict[str, str | None] = {}
        self.form: dict[str, str | None] = {}
        self.ids: dict[str, str] = {}
        self.text: list[str] = []
        self._capture: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "tbody" and "case" in (attributes.get("class") or "").split():
            self.cases.append(attributes)
        elif tag == "body":
            self.body = attributes
        elif tag == "form":
            self.form = attributes
        if attributes.get("id") in ("shown", "count-fail", "count-not_exercised", "filter-state"):
            self._capture = attributes["id"]

    def handle_endtag(self, tag: str) -> None:
        self._capture = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._capture:
            self.ids[self._capture] = self.ids.get(self._capture, "") + data


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    info = RunInfo(
        target="https://mastodon.example",
        started_at="2026-01-02T03:04:05Z",
        duration_s=3.0,
        extra={"server_version": "4.8.0-alpha.1"},
    )
    return write_html_report(tmp_path_factory.mktemp("html"), info, RESULTS)


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=scaled(TIMEOUT_S),
        check=True,
    )


def _dom(report: Path, fragment: str, profile: Path) -> Dom:
    out = _chromium(profile, "--dump-dom", report.as_uri() + fragment)
    dom = Dom()
    dom.feed(out.stdout)
    dom.close()
    assert dom.cases, out.stderr[-2000:]
    return dom


def test_page_after_scripts_ran_shows_counts_verdicts_and_the_failure(
    report: Path, tmp_path: Path
) -> None:
    dom = _dom(report, "", tmp_path / "profile")
    # The script ran: it revealed the filter form and recorded that nothing is filtered.
    assert "hidden" not in dom.form
    assert dom.body.get("data-filter") == "" and dom.body.get("data-shown") == "5"
    assert dom.ids["count-fail"] == "1" and dom.ids["count-not_exercised"] == "1"
    assert dom.ids["shown"] == "5 of 5 shown"
    assert [c["data-verdict"] for c in dom.cases] == [
        "fail",
        "warn",
        "not_exercised",
        "info",
        "pass",
    ]
    assert all("hidden" not in c for c in dom.cases)
    classes = [c["class"] or "" for c in dom.cases]
    assert "v-fail" in classes[0] and "v-not_exercised" in classes[2]
    text = " ".join(" ".join(dom.text).split())
    assert "expected observed HTTP status 200 503 Service Unavailable" in text
    assert "HTTP/1.1 503 Service Unavailable" in text


def test_fragment_filter_hides_every_row_but_the_failing_one(report: Path, tmp_path: Path) -> None:
    dom = _dom(report, "#verdict=fail", tmp_path / "profile")
    visible = [c["data-verdict"] for c in dom.cases if "hidden" not in c]
    assert visible == ["fail"]
    assert len(dom.cases) == 5
    assert dom.body.get("data-filter") == "verdict=fail" and dom.body.get("data-shown") == "1"
    assert dom.ids["shown"] == "1 of 5 shown"


def test_fragment_filter_combines_verdicts_level_and_text(report: Path, tmp_path: Path) -> None:
    dom = _dom(report, "#verdict=warn,not_exercised,info&level=MUST", tmp_path / "p1")
    assert [c["id"] for c in dom.cases if "hidden" not in c] == ["case-2"]
    dom = _dom(report, "#q=CACHE-control", tmp_path / "p2")
    assert [c["data-req"] for c in dom.cases if "hidden" not in c] == [
        "http.sse.cache-control-no-store"
    ]


def _png_size_and_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat = b""
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            idat += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    return width, height, zlib.decompress(idat)


def test_screenshot_is_a_non_trivial_png(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    _chromium(
        tmp_path / "profile", "--window-size=1200,900", f"--screenshot={shot}", report.as_uri()
    )
    width, height, pixels = _png_size_and_pixels(shot.read_bytes())
    assert (width, height) == (1200, 900)
    # A blank or single-colour page compresses to almost nothing and has few distinct bytes.
    assert len(pixels) >= width * height * 3
    assert len(set(pixels)) > 64
    assert shot.stat().st_size > 20_000
