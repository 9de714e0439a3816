"""The pre-escaped blocks of report.html: every text the matrix and the case rows hold went
through ``Escaper`` (they are printed with autoescaping off), and the page written to a file is
the page ``render_html`` returns."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from conformance.reports.html import render_html, write_html_report
from conformance.reports.html_view import Escaper, Finding, _visible, build_view, highlight
from conformance.reports.json_report import RunInfo
from conformance.verdicts import Level, Result, Verdict

HOSTILE = '<script>alert("x")</script>&\'"'
INFO = RunInfo(target="https://x.example", started_at="2026-01-01T00:00:00Z", duration_s=1.0)


def _results() -> list[Result]:
    out = []
    for n, verdict in enumerate(Verdict):
        out.append(
            Result(
                id=f"case{HOSTILE}[{n}]",
                requirement=f"req.{verdict.value}{HOSTILE}",
                verdict=verdict,
                level=Level.MUST,
                message=f"[w{HOSTILE}] expected a{HOSTILE}; observed b{HOSTILE}",
                transport="sse" if n % 2 else None,
                stream=f"s{HOSTILE}",
                event=f"e{HOSTILE}" if n % 3 else None,
                evidence=f"ev\x00{HOSTILE}" * (n + 1),
                transcript=f"t{HOSTILE}",
            )
        )
    return out


def _texts(value: Any) -> list[Any]:
    """Every str held (at any depth) by a row, a cell, a detail or a finding."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Finding):
        return [value.where, value.expected, value.observed]
    if isinstance(value, tuple | list):
        return [text for item in value for text in _texts(item)]
    return []


def test_escaped_rows_hold_only_markup() -> None:
    view = build_view(INFO, _results(), transcript_links={f"t{HOSTILE}": f"transcripts/{HOSTILE}"})
    texts = _texts(view["cases"]) + _texts(view["matrix"])
    assert texts and all(type(t) is Markup for t in texts if t is not None)
    assert all("<script" not in t for t in texts if t is not None)


def test_escaper_escapes_once_per_text() -> None:
    escaper = Escaper()
    first = escaper[HOSTILE]
    assert first == escape(HOSTILE) and escaper[HOSTILE] is first
    assert escaper.optional(None) is None
    assert highlight("x expected <a>; observed b") == Markup(
        'x <strong class="kw">expected</strong> &lt;a&gt;; <strong class="kw">observed</strong> b'
    )


def test_written_page_is_the_rendered_page(tmp_path: Path) -> None:
    results = _results() * 400  # more pieces than one write
    path = write_html_report(tmp_path, INFO, results)
    assert path.read_text(encoding="utf-8") == render_html(INFO, results)
    assert "<script>alert" not in path.read_text(encoding="utf-8")


def test_controls_are_shown_as_hex() -> None:
    text = "".join(map(chr, range(0x100))) * 2
    controls = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
    assert _visible(text) == controls.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
