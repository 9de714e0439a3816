"""``report.html``: the run as one self-contained page for people (auditors, bug reports).

The page is attached to bug reports and opened offline, so it is a single file: inline CSS, a
small inline script and no external assets. Everything in it that came from the server or the
network (messages, evidence bytes, ids) is untrusted, so the template is rendered with jinja2
autoescaping on (its two large blocks, the matrix and the case table, print values escaped
beforehand by ``html_view.Escaper``), and a Content-Security-Policy pins the one inline script
and style by hash: even a missed escape could not run injected script. Without JavaScript the
page shows every case; the script only adds filtering (driven by the URL fragment, e.g.
``report.html#verdict=fail``).

Inputs are already redacted (``run_reports.write_run_reports``); this module adds no secrets and
shows only a whitelist of run settings, none of them credentials. What the page shows is built
by ``html_view.py`` (no jinja2 there); this module renders it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
from collections.abc import Iterator, Mapping
from importlib import resources
from itertools import islice
from pathlib import Path

import jinja2
from markupsafe import Markup

from conformance.findings import Analysis
from conformance.reports.html_view import build_view, split_message
from conformance.reports.json_report import RunInfo
from conformance.verdicts import SEVERITY, Result

__all__ = ["SEVERITY", "build_view", "render_html", "split_message", "write_html_report"]

#: Template pieces per write of report.html (~40 kB each; a run's page has ~50,000 pieces).
_PIECES_PER_WRITE = 2000


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
    return jinja2.Environment(
        loader=jinja2.PackageLoader("conformance.reports", "templates"),
        bytecode_cache=_bytecode_cache(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(
    info: RunInfo,
    results: list[Result],
    *,
    transcript_links: Mapping[str, str] | None = None,
    analysis: Analysis | None = None,
) -> str:
    return "".join(_pieces(info, results, transcript_links, analysis))


def write_html_report(
    report_dir: Path,
    info: RunInfo,
    results: list[Result],
    *,
    transcript_links: Mapping[str, str] | None = None,
    analysis: Analysis | None = None,
) -> Path:
    """``render_html``'s page, written a few thousand template pieces at a time: the page as one
    string (~1 MB) and its UTF-8 bytes would be fresh memory, ~500 page faults."""
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "report.html"
    pieces = _pieces(info, results, transcript_links, analysis)
    with path.open("w", encoding="utf-8") as file:
        while chunk := list(islice(pieces, _PIECES_PER_WRITE)):
            file.write("".join(chunk))
    return path


def _pieces(
    info: RunInfo,
    results: list[Result],
    transcript_links: Mapping[str, str] | None,
    analysis: Analysis | None,
) -> Iterator[str]:
    """The page as the template generates it (``Template.render`` joins the same pieces)."""
    style, script = _asset("report.css"), _asset("report.js")
    template = _environment().get_template("report.html.j2")
    return template.generate(
        **build_view(info, results, transcript_links=transcript_links, analysis=analysis),
        style=Markup(style),
        script=Markup(script),
        style_hash=_csp_hash(style),
        script_hash=_csp_hash(script),
    )
