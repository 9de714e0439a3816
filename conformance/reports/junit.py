"""``junit.xml``: the run for CI dashboards, mapped so that nothing hides a failure.

The mapping is the one conformance users ask for (h2spec's lossy JUnit is the counter-example):
``fail`` -> ``<failure>``, ``error`` -> ``<error>``, ``not_exercised`` -> ``<skipped message>``,
``pass``/``info`` -> a plain ``<testcase>``, ``warn`` -> a plain testcase with the warning in
``<system-out>`` (a ``<failure>`` under ``--strict``). ``name`` is the case id, ``classname`` the
requirement id, so a dashboard groups by requirement.

With a baseline, a result it expects becomes ``<skipped>`` naming the baseline's reason (the run
does not fail on it; report.json keeps the honest verdict), and each stale entry is a
``<failure type="stale-baseline">`` testcase in classname ``baseline``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from conformance.verdicts import Result, Verdict

if TYPE_CHECKING:
    from conformance.baseline import BaselineOutcome

__all__ = ["build_junit", "write_junit"]

SUITE_NAME = "mastodon-streaming-conformance"
# XML 1.0 forbids most C0 controls even as character references; evidence may contain them.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _body(result: Result) -> str:
    parts = [result.message]
    if result.evidence:
        parts.append(f"evidence: {result.evidence}")
    if result.transcript:
        parts.append(f"transcript: {result.transcript}")
    return _clean("\n".join(parts))


def build_junit(
    results: list[Result],
    *,
    target: str,
    started_at: str,
    duration_s: float,
    strict: bool = False,
    baseline: BaselineOutcome | None = None,
) -> ET.ElementTree:
    ordered = sorted(results, key=lambda r: r.id)
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    cases = []
    expected = (
        {r.id: e for r, e in baseline.expected if r.verdict is not Verdict.NOT_EXERCISED}
        if baseline is not None
        else {}
    )
    for result in ordered:
        case = ET.Element(
            "testcase",
            {"classname": _clean(result.requirement), "name": _clean(result.id), "time": "0"},
        )
        verdict = result.verdict
        if result.id in expected:
            counts["skipped"] += 1
            entry = expected[result.id]
            why = entry.reason or "no reason given"
            issue = f" ({entry.issue})" if entry.issue else ""
            message = f"expected {verdict.value} (baseline): {why}{issue}"
            child = ET.SubElement(case, "skipped", {"message": _clean(message), "type": "expected"})
            child.text = _body(result)
        elif verdict is Verdict.FAIL or (verdict is Verdict.WARN and strict):
            counts["failures"] += 1
            child = ET.SubElement(
                case, "failure", {"message": _clean(result.message), "type": verdict.value}
            )
            child.text = _body(result)
        elif verdict is Verdict.ERROR:
            counts["errors"] += 1
            child = ET.SubElement(
                case, "error", {"message": _clean(result.message), "type": "error"}
            )
            child.text = _body(result)
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
        child = ET.SubElement(
            case, "failure", {"message": _clean(stale.why), "type": "stale-baseline"}
        )
        child.text = _clean(f"stale baseline entry: {stale.why}; reason: {stale.entry.reason}")
        cases.append(case)

    attrs = {
        "name": SUITE_NAME,
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


def write_junit(
    report_dir: Path,
    results: list[Result],
    *,
    target: str,
    started_at: str,
    duration_s: float,
    strict: bool = False,
    baseline: BaselineOutcome | None = None,
) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "junit.xml"
    tree = build_junit(
        results,
        target=target,
        started_at=started_at,
        duration_s=duration_s,
        strict=strict,
        baseline=baseline,
    )
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path
