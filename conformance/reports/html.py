"""``report.html``: the run as one self-contained page for people (auditors, bug reports).

The page is attached to bug reports and opened offline, so it is a single file: inline CSS, a
small inline script and no external assets. Everything in it that came from the server or the
network (messages, evidence bytes, ids) is untrusted, so the template is rendered with jinja2
autoescaping on, and a Content-Security-Policy pins the one inline script and style by hash: even
a missed escape could not run injected script. Without JavaScript the page shows every case; the
script only adds filtering (driven by the URL fragment, e.g. ``report.html#verdict=fail``).

Inputs are already redacted (``run_reports.write_run_reports``); this module adds no secrets and
shows only a whitelist of run settings, none of them credentials.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from conformance import __version__
from conformance.findings import Analysis, analyse
from conformance.reports.findings_view import capabilities_view, findings_view
from conformance.reports.json_report import RunInfo
from conformance.verdicts import SEVERITY, SUMMARY_KEYS, Result, Verdict, severity_rank, summarise

__all__ = ["SEVERITY", "build_view", "render_html", "split_message", "write_html_report"]

#: Worst first (``verdicts.SEVERITY``, the suite's one order): the order of the case table and
#: the verdict a matrix cell shows. ``not_exercised`` outranks ``pass`` so it never hides.
PROBLEMS = frozenset({Verdict.FAIL, Verdict.ERROR, Verdict.WARN})
LABELS = {
    "pass": "pass",
    "fail": "fail",
    "warn": "warn",
    "info": "info",
    "not_exercised": "not exercised",
    "error": "error",
}
SYMBOLS = {"pass": "", "fail": "F", "warn": "W", "info": "i", "not_exercised": "N", "error": "E"}
_TRANSPORT_ORDER = {"sse": 0, "ws": 1, "http": 2}
#: Settings worth showing in the header; credentials are never among them.
_SHOWN_SETTINGS = ("stimulus", "read-only", "strict", "long", "allow-public-posts")
_LEVEL_ORDER = ["MUST", "SHOULD", "MAY", "INFO"]
_MAX_EVIDENCE = 8000
_MAX_SHORT = 180
# C0 controls (except tab/newline/CR) are HTML parse errors or invisible; show them as \xNN.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EXPECTED = re.compile(r"^(?P<lead>.*?)\bexpected (?P<expected>.*)$", re.S)
_KEYWORDS = re.compile(r"\b(expected|observed)\b")


def _visible(text: str) -> str:
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _short(text: str) -> str:
    text = " ".join(_visible(text).split())
    return text if len(text) <= _MAX_SHORT else text[: _MAX_SHORT - 1] + "…"


def highlight(text: str) -> Markup:
    """Escape first, then mark the words "expected"/"observed": escaped text holds no tags."""
    escaped = str(escape(_visible(text)))
    return Markup(_KEYWORDS.sub(r'<strong class="kw">\1</strong>', escaped))


def column_key(result: Result) -> str:
    return f"{result.transport or 'other'}-{result.stream or '(none)'}"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    transport: str
    stream: str


@dataclass(frozen=True, slots=True)
class Cell:
    verdict: str
    symbol: str
    title: str
    href: str


@dataclass(frozen=True, slots=True)
class MatrixRow:
    requirement: str
    level: str
    description: str
    worst: str
    cells: list[Cell | None]


@dataclass(frozen=True, slots=True)
class Finding:
    """One "<where> expected A; observed B" clause of a message (or a plain clause: no pair)."""

    where: str
    expected: str | None = None
    observed: str | None = None


def split_message(message: str) -> list[Finding]:
    """Judges write ``[where] expected A; observed B`` clauses joined by ``"; "``; an auditor
    reads them best as rows. Returns [] when the message holds no such pair (shown as text)."""
    segments = _visible(message).split("; ")
    findings: list[Finding] = []
    paired = False
    i = 0
    while i < len(segments):
        match = _EXPECTED.match(segments[i])
        follower = segments[i + 1] if i + 1 < len(segments) else ""
        if match and follower.startswith("observed "):
            where = match["lead"].strip()
            findings.append(
                Finding(
                    where=where[:-1].rstrip() if where.endswith(":") else where,
                    expected=match["expected"],
                    observed=follower[len("observed ") :],
                )
            )
            paired = True
            i += 2
        else:
            findings.append(Finding(where=segments[i]))
            i += 1
    return findings if paired else []


@dataclass(frozen=True, slots=True)
class CaseRow:
    anchor: str
    result: Result
    column: str
    problem: bool
    short: str
    findings: list[Finding]
    evidence: str | None
    evidence_truncated: int
    transcript_href: str | None
    clause: str | None
    description: str | None
    because: str | None = None


def _requirement_facts() -> Mapping[str, Any]:
    """The registry for descriptions and clauses; a report still renders without it."""
    try:
        from conformance.requirements import REGISTRY
    except Exception:  # pragma: no cover - the registry is part of the package
        return {}
    return REGISTRY


def _sorted_results(results: list[Result]) -> list[Result]:
    return sorted(results, key=lambda r: (severity_rank(r.verdict), r.id))


def _columns(results: list[Result]) -> list[Column]:
    keys = {(r.transport or "other", r.stream or "(none)") for r in results}
    ordered = sorted(keys, key=lambda k: (_TRANSPORT_ORDER.get(k[0], 9), k[0], k[1]))
    return [Column(key=f"{t}-{s}", transport=t, stream=s) for t, s in ordered]


def _cell(requirement: str, column: str, verdicts: Counter[str]) -> Cell:
    worst = min(verdicts, key=lambda v: severity_rank(Verdict(v)))
    parts = ", ".join(
        f"{verdicts[v.value]} {LABELS[v.value]}" for v in SEVERITY if verdicts[v.value]
    )
    return Cell(
        verdict=worst,
        symbol=SYMBOLS[worst],
        title=f"{requirement} × {column}: {parts}",
        href=f"req={quote(requirement, safe='')}&ts={quote(column, safe='')}",
    )


def _matrix(
    results: list[Result], columns: list[Column], facts: Mapping[str, Any]
) -> list[MatrixRow]:
    by_cell: dict[tuple[str, str], Counter[str]] = {}
    levels: dict[str, str] = {}
    for result in results:
        by_cell.setdefault((result.requirement, column_key(result)), Counter())[
            result.verdict.value
        ] += 1
        levels.setdefault(result.requirement, result.level.value)
    rows = []
    for requirement in sorted(levels):
        cells: list[Cell | None] = []
        for column in columns:
            verdicts = by_cell.get((requirement, column.key))
            cells.append(_cell(requirement, column.key, verdicts) if verdicts else None)
        present = [c.verdict for c in cells if c is not None]
        fact = facts.get(requirement)
        rows.append(
            MatrixRow(
                requirement=requirement,
                level=fact.level.value if fact is not None else levels[requirement],
                description=fact.description if fact is not None else "",
                worst=min(present, key=lambda v: severity_rank(Verdict(v))),
                cells=cells,
            )
        )
    return rows


def _case(
    index: int,
    result: Result,
    facts: Mapping[str, Any],
    links: Mapping[str, str],
    because: Mapping[str, str] | None = None,
) -> CaseRow:
    problem = result.verdict in PROBLEMS
    evidence = result.evidence
    truncated = 0
    if evidence is not None and len(evidence) > _MAX_EVIDENCE:
        truncated = len(evidence)
        evidence = evidence[:_MAX_EVIDENCE]
    fact = facts.get(result.requirement)
    return CaseRow(
        anchor=f"case-{index}",
        result=result,
        column=column_key(result),
        problem=problem,
        short=_short(result.message),
        findings=split_message(result.message) if problem else [],
        evidence=_visible(evidence) if evidence is not None else None,
        evidence_truncated=truncated,
        transcript_href=links.get(result.transcript or ""),
        clause=fact.clause if fact is not None else None,
        description=fact.description if fact is not None else None,
        because=(because or {}).get(result.id),
    )


def _mode(extra: Mapping[str, Any]) -> str:
    if extra.get("mode") == "replay":
        count = extra.get("transcripts")
        return f"offline replay of {count} saved transcripts" if count else "offline replay"
    if extra.get("embedded"):
        return "live run against the embedded reference server"
    return str(extra.get("mode") or "live run")


def _settings(extra: Mapping[str, Any]) -> list[tuple[str, str]]:
    settings = extra.get("settings")
    if not isinstance(settings, Mapping):
        return []
    shown = []
    for key in _SHOWN_SETTINGS:
        if key in settings and settings[key] is not None:
            value = settings[key]
            shown.append((key, value if isinstance(value, str) else json.dumps(value)))
    return shown


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s"


def build_view(
    info: RunInfo,
    results: list[Result],
    *,
    transcript_links: Mapping[str, str] | None = None,
    analysis: Analysis | None = None,
) -> dict[str, Any]:
    """Everything the template shows, computed here so the template stays a plain layout.

    Without an ``analysis`` (no transcripts at hand) findings are derived from the results alone.
    """
    facts = _requirement_facts()
    ordered = _sorted_results(results)
    columns = _columns(results)
    counts = summarise(results)
    if analysis is None:
        analysis = analyse(results)
    because = {c.id: c.because for f in analysis.findings for c in f.consequences}
    cases = [_case(i, r, facts, transcript_links or {}, because) for i, r in enumerate(ordered)]
    anchors = {c.result.id: c.anchor for c in cases}
    extra = info.extra
    groups: list[tuple[str, int]] = []
    for column in columns:
        if groups and groups[-1][0] == column.transport:
            groups[-1] = (column.transport, groups[-1][1] + 1)
        else:
            groups.append((column.transport, 1))
    if counts["fail"]:
        roots = sum(1 for f in analysis.findings if f.verdict == "fail")
        status, status_text = (
            "fail",
            f"{counts['fail']} failing case(s) from {roots} root cause(s): not conformant",
        )
    elif counts["error"]:
        status, status_text = "error", f"{counts['error']} case(s) could not be judged (error)"
    elif counts["warn"]:
        status, status_text = "warn", f"no failures; {counts['warn']} warning(s)"
    elif not results or counts["not_exercised"] == len(results):
        status, status_text = "not_exercised", "nothing was exercised"
    else:
        status, status_text = "pass", "no failures"
    if status != "not_exercised" and counts["not_exercised"]:
        status_text += f"; {counts['not_exercised']} case(s) not exercised"
    return {
        "target": info.target,
        "suite_version": str(extra.get("suite_version") or __version__),
        "started_at": info.started_at,
        "duration": _duration(info.duration_s),
        "server_version": extra.get("server_version") or "unknown",
        "mode": _mode(extra),
        "settings": _settings(extra),
        "interrupted": bool(extra.get("interrupted")),
        "session_error": extra.get("session_error"),
        "counts": [(key, LABELS[key], counts[key]) for key in SUMMARY_KEYS],
        "total": len(results),
        "status": status,
        "status_text": status_text,
        "problems": [c for c in cases if c.problem],
        "findings": findings_view(analysis, anchors, labels=LABELS, short=_short, visible=_visible),
        "capabilities": capabilities_view(analysis),
        "columns": columns,
        "groups": groups,
        "matrix": _matrix(results, columns, facts),
        "cases": cases,
        "levels": sorted(
            {r.level.value for r in results}, key=["MUST", "SHOULD", "MAY", "INFO"].index
        ),
        "verdicts": [(v.value, LABELS[v.value]) for v in SEVERITY],
        "symbols": SYMBOLS,
        "labels": LABELS,
    }


def _asset(name: str) -> str:
    return (resources.files("conformance.reports") / "templates" / name).read_text("utf-8")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates in the user's cache dir (``$XDG_CACHE_HOME``, else ``~/.cache``).

    Why: compiling ``report.html.j2`` took ~0.15 s of every run, as long as rendering it. jinja2
    keys each entry by the template's source checksum, so an edited template is recompiled; an
    unwritable cache dir just means no cache.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = Path(base) / "mastodon-streaming-conformance" / f"jinja2-{jinja2.__version__}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(directory))


@functools.cache  # one environment (and its compiled templates) per process
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("conformance.reports", "templates"),
        bytecode_cache=_bytecode_cache(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["highlight"] = highlight
    return env


def render_html(
    info: RunInfo,
    results: list[Result],
    *,
    transcript_links: Mapping[str, str] | None = None,
    analysis: Analysis | None = None,
) -> str:
    style, script = _asset("report.css"), _asset("report.js")
    template = _environment().get_template("report.html.j2")
    return template.render(
        **build_view(info, results, transcript_links=transcript_links, analysis=analysis),
        style=Markup(style),
        script=Markup(script),
        style_hash=_csp_hash(style),
        script_hash=_csp_hash(script),
    )


def write_html_report(
    report_dir: Path,
    info: RunInfo,
    results: list[Result],
    *,
    transcript_links: Mapping[str, str] | None = None,
    analysis: Analysis | None = None,
) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "report.html"
    html = render_html(info, results, transcript_links=transcript_links, analysis=analysis)
    path.write_text(html, encoding="utf-8")
    return path
