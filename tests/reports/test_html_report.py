"""report.html on hand-built Results: structure, counts, ordering, escaping, no secrets, no assets.

The page is parsed with the standard library's HTMLParser (what a browser would build from the
static bytes, before any script ran): every case must be there and visible without JavaScript.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

from conformance.redact import Redactor
from conformance.replay import replay_main
from conformance.reports.html import render_html, split_message
from conformance.reports.json_report import RunInfo
from conformance.reports.run_reports import write_run_reports
from conformance.transcript.model import Meta, Transcript
from conformance.verdicts import Level, Result, Verdict

TOKEN = "tok-HTML-SECRET-0123456789"
XSS = '<script>alert("pwned")</script>'


def _result(
    case: str, verdict: Verdict, level: Level = Level.MUST, stream: str = "user", **kw: object
) -> Result:
    return Result(
        id=f"{case}[sse-{stream}]",
        requirement=case,
        verdict=verdict,
        level=level,
        message=str(kw.pop("message", f"{verdict.value} message")),
        transport="sse",
        stream=stream,
        **kw,
    )  # type: ignore[arg-type]


RESULTS = [
    _result("a.pass", Verdict.PASS),
    _result("a.pass", Verdict.PASS, stream="public"),
    _result(
        "b.fail",
        Verdict.FAIL,
        message=f"expected status 200 {XSS}; observed status 401",
        evidence=f"HTTP/1.1 401 \x00</pre>{XSS}",
        transcript="sse-user",
    ),
    _result("c.warn", Verdict.WARN, Level.SHOULD, message="expected no-store; observed absent"),
    _result("d.info", Verdict.INFO, Level.INFO, message="heartbeat every 15 s"),
    _result("e.skip", Verdict.NOT_EXERCISED, message="needs --allow-public-posts"),
    # Same cell as a pass: the cell must show not_exercised, never pass.
    _result("a.pass", Verdict.NOT_EXERCISED, stream="public", message="no stimulus"),
    _result("f.error", Verdict.ERROR, message="recorder crashed"),
]
INFO = RunInfo(
    target="https://mastodon.example",
    started_at="2026-01-02T03:04:05Z",
    duration_s=12.5,
    extra={
        "server_version": "4.8.0-alpha.1",
        "embedded": False,
        "settings": {"stimulus": "rest", "token": TOKEN, "second-token": TOKEN, "strict": False},
    },
)


class Page(HTMLParser):
    """The parts of the page the tests look at, by element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cases: list[dict[str, str | None]] = []
        self.cells: list[dict[str, str | None]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        classes = (attributes.get("class") or "").split()
        if tag == "tbody" and "case" in classes:
            self.cases.append(attributes)
        if tag == "td" and "cell" in classes:
            self.cells.append(attributes)
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)
        else:
            self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def test_every_case_is_listed_worst_first_and_visible_without_javascript() -> None:
    page = parse(render_html(INFO, RESULTS))
    verdicts = [c["data-verdict"] for c in page.cases]
    assert verdicts == [
        "fail",
        "error",
        "warn",
        "not_exercised",
        "not_exercised",
        "info",
        "pass",
        "pass",
    ]
    assert all("hidden" not in c for c in page.cases)
    # The filter form does nothing without JS, so it starts hidden and the script reveals it.
    form = next(attrs for tag, attrs in page.tags if tag == "form")
    assert form.get("id") == "filters" and "hidden" in form
    fail = page.cases[0]
    assert fail["data-level"] == "MUST" and fail["data-ts"] == "sse-user"
    assert "problem" in (fail["class"] or "") and "v-fail" in (fail["class"] or "")


def test_header_and_counts() -> None:
    html = render_html(INFO, RESULTS)
    text = " ".join(" ".join(parse(html).text).split())
    for expected in (
        "https://mastodon.example",
        "4.8.0-alpha.1",
        "2026-01-02T03:04:05Z",
        "12.5 s",
        "live run",
        "stimulus rest",
        "FAIL 1 failing case(s)",
    ):
        assert expected in text
    for verdict, count in {
        "pass": 2,
        "fail": 1,
        "warn": 1,
        "info": 1,
        "not_exercised": 2,
        "error": 1,
    }.items():
        assert f'id="count-{verdict}">{count}</span>' in html


def test_failing_case_shows_expected_observed_evidence_and_transcript() -> None:
    html = render_html(INFO, RESULTS)
    detail = html[html.index('id="case-0"') : html.index('id="case-1"')]
    assert '<td class="expected">status 200 &lt;script&gt;' in detail
    assert '<td class="observed">status 401</td>' in detail
    assert '<pre class="evidence">HTTP/1.1 401 \\x00&lt;/pre&gt;&lt;script&gt;' in detail
    assert "<code>sse-user</code>" in detail
    # warn is expanded too; pass/info/not_exercised rows carry only their message.
    assert html.count('<tr class="detail">') == 3


def test_untrusted_text_is_escaped_and_only_our_script_runs() -> None:
    html = render_html(INFO, RESULTS)
    assert XSS not in html
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    page = parse(html)
    script_tags = [attrs for tag, attrs in page.tags if tag == "script"]
    assert len(script_tags) == 1 and len(page.scripts) == 1
    assert "alert" not in page.scripts[0]
    # The CSP pins the inline script and style by hash: a missed escape still could not run.
    csp = next(
        attrs["content"] or ""
        for tag, attrs in page.tags
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    )
    for body in (page.scripts[0], page.styles[0]):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp


def test_attributes_and_links_escape_hostile_ids() -> None:
    hostile = Result(
        id='x" onmouseover="alert(1)',
        requirement='req"><img src=x>',
        verdict=Verdict.FAIL,
        level=Level.MUST,
        message="m",
        transport="ws",
        stream="a&b",
    )
    html = render_html(INFO, [hostile])
    assert "<img" not in html and 'onmouseover="' not in html
    page = parse(html)
    assert page.cases[0]["data-req"] == 'req"><img src=x>'
    assert page.cells[0]["title"] == 'req"><img src=x> × ws-a&b: 1 fail'


def test_self_contained_no_external_assets() -> None:
    page = parse(render_html(INFO, RESULTS))
    for tag, attrs in page.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed")
        assert "src" not in attrs, tag
        href = attrs.get("href")
        if href is not None:
            assert href.startswith("#") or href.startswith("transcripts/"), href


def test_matrix_shows_worst_verdict_and_not_exercised_is_never_pass() -> None:
    page = parse(render_html(INFO, RESULTS))
    cells = {c.get("title"): c.get("data-verdict") for c in page.cells}
    assert cells["a.pass × sse-public: 1 not exercised, 1 pass"] == "not_exercised"
    assert cells["a.pass × sse-user: 1 pass"] == "pass"
    assert cells["b.fail × sse-user: 1 fail"] == "fail"
    assert cells["e.skip × sse-user: 1 not exercised"] == "not_exercised"
    assert len(page.cells) == 6 * 2  # 6 requirements x 2 transport-streams (empty ones too)
    assert sum(1 for c in page.cells if c.get("data-verdict") is None) == 5


def test_no_token_in_the_page() -> None:
    html = render_html(INFO, RESULTS)
    assert TOKEN not in html
    assert "second-token" not in html


def test_split_message_into_expected_observed_rows() -> None:
    rows = split_message(
        "update at t=0.1: /uri: expected key 'uri'; observed absent; /id: expected string; "
        "observed int; ... 3 more"
    )
    assert [(r.where, r.expected, r.observed) for r in rows] == [
        ("update at t=0.1: /uri", "key 'uri'", "absent"),
        ("/id", "string", "int"),
        ("... 3 more", None, None),
    ]
    assert split_message("token in the header accepted (200)") == []
    assert split_message("expected 200; but got 401") == []


def _transcript() -> Transcript:
    transcript = Transcript(
        meta=Meta(
            id="sse-user", transport="sse", request={"url": f"http://h/x?access_token={TOKEN}"}
        )
    )
    transcript.add(0.0, "connect")
    transcript.add(0.1, "end", how="client-close", detail="")
    return transcript


def test_write_run_reports_writes_a_redacted_html_next_to_report_json(tmp_path: Path) -> None:
    results = [
        *RESULTS,
        _result("g.fail", Verdict.FAIL, message=f"expected nothing; observed {TOKEN}"),
    ]
    paths = write_run_reports(
        tmp_path,
        target="http://127.0.0.1:4000",
        started_at="2026-01-02T03:04:05Z",
        duration_s=1.0,
        results=results,
        transcripts=[_transcript()],
        redactor=Redactor([TOKEN]),
        extra={"settings": {"token": "<redacted>"}, "embedded": True},
    )
    assert paths["html"] == tmp_path / "report.html" and (tmp_path / "report.json").is_file()
    html = paths["html"].read_text(encoding="utf-8")
    assert TOKEN not in html and "observed</strong> REDACTED" not in html
    assert '<td class="observed">REDACTED</td>' in html
    assert '<a href="transcripts/sse-user.jsonl">sse-user</a>' in html
    assert "live run against the embedded reference server" in html
    assert (tmp_path / "transcripts" / "sse-user.jsonl").is_file()


def test_replay_of_the_captures_writes_html_with_every_failure_up_front(
    captures_dir: Path, tmp_path: Path
) -> None:
    assert replay_main(captures_dir, report_dir=tmp_path) == 1
    report = json.loads((tmp_path / "report.json").read_text())
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    page = parse(html)
    failing = [c for c in page.cases if c["data-verdict"] == "fail"]
    assert len(failing) == report["summary"]["fail"] >= 1
    assert len(page.cases) == len(report["results"])
    # Worst first: the failing cases open the table, and each is listed in the problems list.
    assert [c["data-verdict"] for c in page.cases[: len(failing)]] == ["fail"] * len(failing)
    problems = re.search(r'<ol class="problems">(.*?)</ol>', html, re.S)
    assert problems is not None
    assert problems.group(1).count("<li ") == report["summary"]["fail"] + report["summary"]["warn"]
    assert "offline replay of" in html
