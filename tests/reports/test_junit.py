"""junit.xml is written as text: byte for byte what ElementTree wrote for the same tree, and a
document JUnit readers parse (counts, escaping, the baseline mapping)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.baseline import BaselineOutcome, compare, parse_baseline
from conformance.reports.junit import _body, _clean, write_junit
from conformance.verdicts import Level, Result, Verdict

HOSTILE = ["<b>&\"'", "tab\tnew\nline\r\n", "ctrl\x00\x1b\x7f", "é😀\u2028", "\ufffe", "\ud800"]
HOSTILE += ["]]>", ""]


def _elementtree_junit(
    results: list[Result],
    target: str,
    started_at: str,
    duration_s: float,
    strict: bool,
    baseline: BaselineOutcome | None,
) -> ET.ElementTree:
    """The ElementTree implementation junit.py had before it wrote text (the reference)."""
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    cases = []
    expected = (
        {r.id: e for r, e in baseline.expected if r.verdict is not Verdict.NOT_EXERCISED}
        if baseline is not None
        else {}
    )
    for result in sorted(results, key=lambda r: r.id):
        case = ET.Element(
            "testcase",
            {"classname": _clean(result.requirement), "name": _clean(result.id), "time": "0"},
        )
        verdict = result.verdict
        if result.id in expected:
            counts["skipped"] += 1
            entry = expected[result.id]
            issue = f" ({entry.issue})" if entry.issue else ""
            message = f"expected {verdict.value} (baseline): {entry.reason or 'no reason given'}"
            attributes = {"message": _clean(message + issue), "type": "expected"}
            ET.SubElement(case, "skipped", attributes).text = _body(result)
        elif verdict is Verdict.FAIL or (verdict is Verdict.WARN and strict):
            counts["failures"] += 1
            attributes = {"message": _clean(result.message), "type": verdict.value}
            ET.SubElement(case, "failure", attributes).text = _body(result)
        elif verdict is Verdict.ERROR:
            counts["errors"] += 1
            attributes = {"message": _clean(result.message), "type": "error"}
            ET.SubElement(case, "error", attributes).text = _body(result)
        elif verdict is Verdict.NOT_EXERCISED:
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", {"message": _clean(f"not_exercised: {result.message}")})
        elif verdict in (Verdict.WARN, Verdict.INFO):
            out = ET.SubElement(case, "system-out")
            out.text = _clean(f"{verdict.value} ({result.level.value}): {_body(result)}")
        cases.append(case)
    for stale in baseline.stale if baseline is not None else ():
        case = ET.Element(
            "testcase", {"classname": "baseline", "name": _clean(stale.entry.id), "time": "0"}
        )
        counts["failures"] += 1
        attributes = {"message": _clean(stale.why), "type": "stale-baseline"}
        child = ET.SubElement(case, "failure", attributes)
        child.text = _clean(f"stale baseline entry: {stale.why}; reason: {stale.entry.reason}")
        cases.append(case)
    attrs = {
        "name": "mastodon-streaming-conformance",
        "tests": str(len(cases)),
        "failures": str(counts["failures"]),
        "errors": str(counts["errors"]),
        "skipped": str(counts["skipped"]),
        "time": f"{duration_s:.3f}",
    }
    root = ET.Element("testsuites", attrs)
    suite = ET.SubElement(root, "testsuite", {**attrs, "timestamp": started_at})
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "target", "value": _clean(target)})
    suite.extend(cases)
    ET.indent(root)
    return ET.ElementTree(root)


_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))
_results = st.lists(
    st.builds(
        Result,
        id=_text,
        requirement=_text,
        verdict=st.sampled_from(list(Verdict)),
        level=st.sampled_from(list(Level)),
        message=_text,
        evidence=st.none() | _text,
        transcript=st.none() | _text,
    ),
    max_size=8,
)


def _same_bytes(
    tmp: Path,
    results: list[Result],
    *,
    target: str = "http://127.0.0.1:1",
    strict: bool = False,
    baseline: BaselineOutcome | None = None,
) -> bytes:
    """junit.xml as written, after checking it against the ElementTree reference."""
    started, duration = "2026-01-01T00:00:00Z", 1.25
    written = write_junit(
        tmp,
        results,
        target=target,
        started_at=started,
        duration_s=duration,
        strict=strict,
        baseline=baseline,
    )
    reference = tmp / "reference.xml"
    tree = _elementtree_junit(results, target, started, duration, strict, baseline)
    tree.write(reference, encoding="utf-8", xml_declaration=True)
    assert written.read_bytes() == reference.read_bytes()
    return written.read_bytes()


@given(results=_results, strict=st.booleans(), target=_text)
@settings(max_examples=150, deadline=None)
def test_same_bytes_as_elementtree(
    tmp_path_factory: pytest.TempPathFactory, results: list[Result], strict: bool, target: str
) -> None:
    _same_bytes(tmp_path_factory.mktemp("junit"), results, target=target, strict=strict)


def test_baseline_expected_and_stale_entries(tmp_path: Path) -> None:
    results = [
        Result(id=f"r.{v.value}[x]", requirement="r", verdict=v, level=Level.MUST, message="m <&>")
        for v in Verdict
    ]
    baseline = parse_baseline(
        {
            "entries": [
                {"id": "r.fail[x]", "verdict": "fail", "reason": "known <bug>", "issue": "#1"},
                {"id": "gone.case[y]", "reason": 'stale\n"one"'},
            ]
        }
    )
    outcome = compare(baseline, results)
    data = _same_bytes(tmp_path, results, target="t", baseline=outcome)
    suite = ET.fromstring(data).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("7", "1", "2")


def test_no_results(tmp_path: Path) -> None:
    data = _same_bytes(tmp_path, [])
    assert ET.fromstring(data).get("tests") == "0"


def test_clean_writes_every_character_xml_cannot_hold_as_hex() -> None:
    text = "".join(map(chr, [*range(0x300), *range(0xFFF0, 0x10000)])) * 2
    invalid = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
    assert _clean(text) == invalid.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    assert _clean("plain [id]") == "plain [id]"
