"""The load report: per-step figures, thresholds, capacity, ``load.json`` and ``load-summary.md``.

``load.json`` follows ``schemas/load.schema.json`` (validated before it is written, so a report
that does not match its documented shape is a bug found here, not by its reader). Delivery is
counted per event and subscriber: every measured subscriber of a step expects every stimulus
produced in that step; a refused subscriber therefore shows up as lost deliveries too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.load.histogram import Histogram

__all__ = [
    "build_report",
    "build_step",
    "capacity",
    "judge_step",
    "markdown_summary",
    "validate_report",
    "write_reports",
]

SCHEMA_ID = "https://mastodon-streaming-conformance.example/schemas/load.schema.json"
CLIENT_LIMIT = 0.9


def _schema_path() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "schemas", here.parent.parent / "schemas"):
        path = candidate / "load.schema.json"
        if path.is_file():
            return path
    raise FileNotFoundError("load.schema.json not found next to the package")


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def build_step(
    index: int,
    n: int,
    merged: dict[str, Any],
    produced: Sequence[Any],
    *,
    config: Any,
    timings: dict[str, Any],
) -> dict[str, Any]:
    """One step's figures from the merged parts and the stimuli produced."""
    measured = int(merged["subscribers"])
    latency = Histogram.from_json(merged["latency"])
    sent_by_second: dict[int, int] = {}
    for p in produced:
        second = p.sent_us // 1_000_000
        sent_by_second[second] = sent_by_second.get(second, 0) + 1
    first = min(sent_by_second) if sent_by_second else 0
    timeline = []
    for second in sorted(set(sent_by_second) | {int(k) for k in merged["timeline"]}):
        hist = Histogram.from_json(merged["timeline"].get(str(second), {}))
        expected = sent_by_second.get(second, 0) * measured
        summary = hist.summary_ms()
        timeline.append(
            {
                "t_s": second - first,
                "stimuli": sent_by_second.get(second, 0),
                "expected": expected,
                "delivered": hist.count,
                "ratio": _ratio(hist.count, expected),
                "p50_ms": summary["p50_ms"],
                "p99_ms": summary["p99_ms"],
                "max_ms": summary["max_ms"],
            }
        )
    window = float(timings.get("stimulus_s") or 0.0) or 1e-9
    cores = os.cpu_count() or 1
    procs = merged["processes"]
    fractions = [p["cpu_s"] / p["wall_s"] for p in procs if p.get("wall_s")]
    cpu_fraction = float(merged["cpu_s"]) / (window * cores)
    expected = int(merged["expected"])
    return {
        "step": index,
        "subscribers": n,
        "measured_subscribers": measured,
        "sampled_subscribers": int(merged["sample"].get("transcripts", 0)),
        "by_transport": merged["by_transport"],
        "connections": {
            "connected": merged["connected"],
            "refused": merged["refused"],
            "refusals": merged["refusals"],
            "closed_early": merged["closed_early"],
            "closures": merged.get("closures", {}),
            "setup_ms": Histogram.from_json(merged["setup"]).summary_ms(),
        },
        "stimuli": {
            "produced": len(produced),
            "rate_target": config.rate,
            "rate_achieved": round(len(produced) / window, 3),
            "max_post_s": round(max((p.took_s for p in produced), default=0.0), 3),
        },
        "delivery": {
            "expected": expected,
            "delivered": merged["delivered"],
            "lost": merged["lost"],
            "duplicated": merged["duplicated"],
            "out_of_order": merged["out_of_order"],
            "ratio": _ratio(int(merged["delivered"]), expected),
        },
        "latency_ms": latency.summary_ms(),
        "latency_histogram": latency.to_json(),
        "timeline": timeline,
        "keepalive": merged["keepalive"],
        "client": {
            "cores": cores,
            "processes": len(procs),
            "cpu_s": merged["cpu_s"],
            "window_s": round(window, 3),
            "cpu_fraction_of_cores": round(cpu_fraction, 4),
            "max_process_cpu_fraction": round(max(fractions, default=0.0), 4),
            "cpu_ms_per_subscriber_second": round(
                1000 * float(merged["cpu_s"]) / (window * max(1, n)), 5
            ),
            "limited": cpu_fraction > CLIENT_LIMIT or max(fractions, default=0.0) > CLIENT_LIMIT,
        },
        "sample": merged["sample"],
        "timings": timings,
        "breaks": [],
    }


def judge_step(step: dict[str, Any], config: Any) -> None:
    """Fill ``step["breaks"]``: which thresholds this step broke (empty: sustained)."""
    breaks: list[str] = []
    delivery = step["delivery"]
    expected = delivery["expected"]
    loss = (delivery["lost"] / expected) if expected else 1.0
    if step["stimuli"]["produced"] == 0:
        breaks.append("no stimulus could be produced")
    if loss > config.max_loss:
        breaks.append(f"loss {loss:.4%} > {config.max_loss:.4%}")
    p99 = step["latency_ms"]["p99_ms"]
    if p99 is not None and p99 > config.max_p99_ms:
        breaks.append(f"p99 {p99:g} ms > {config.max_p99_ms:g} ms")
    if step["sample"].get("failure_count"):
        breaks.append(f"{step['sample']['failure_count']} conformance finding(s) in the sample")
    step["breaks"] = breaks


def capacity(steps: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The largest sustained step before the first broken one, and where breaking began."""
    sustained = None
    first_break = None
    for step in steps:
        if step["breaks"]:
            first_break = step
            break
        sustained = step
    client_limited = any(s["client"]["limited"] for s in steps)
    per_core = None
    if sustained is not None:
        cores_used = sustained["client"]["cpu_s"] / max(sustained["client"]["window_s"], 1e-9)
        per_core = round(sustained["subscribers"] / cores_used) if cores_used > 0 else None
    return {
        "sustained_subscribers": sustained["subscribers"] if sustained else None,
        "sustained_step": sustained["step"] if sustained else None,
        "first_break_step": first_break["step"] if first_break else None,
        "first_break_subscribers": first_break["subscribers"] if first_break else None,
        "first_break_reasons": first_break["breaks"] if first_break else [],
        "client_limited": client_limited,
        "subscribers_per_client_core": per_core,
    }


def build_report(
    steps: list[dict[str, Any]], *, meta: dict[str, Any], config: dict[str, Any]
) -> dict[str, Any]:
    return {
        "format": "mastodon-streaming-conformance/load/1",
        **meta,
        "config": config,
        "steps": steps,
        "capacity": capacity(steps),
    }


def validate_report(report: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError if the report does not match its schema."""
    import jsonschema

    schema = json.loads(_schema_path().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}" if abs(value) >= 10 else f"{value:.3g}{unit}"
    return f"{value:,}{unit}"


def markdown_summary(report: dict[str, Any]) -> str:
    cap = report["capacity"]
    lines = [
        f"# Load: {report['target']['url']}",
        "",
        f"{len(report['steps'])} step(s), transport `{report['config']['transport']}`, streams "
        f"`{','.join(report['config']['streams'])}`, {report['config']['rate']:g} stimuli/s for "
        f"{report['config']['duration_s']:g} s per step.",
        "",
        "| step | subscribers | delivered | ratio | lost | dup | ooo | p50 ms | p95 ms | p99 ms "
        "| max ms | refused | client CPU | breaks |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in report["steps"]:
        d, lat, c = s["delivery"], s["latency_ms"], s["client"]
        ratio = "–" if d["ratio"] is None else f"{d['ratio']:.4%}"
        cpu = f"{c['cpu_fraction_of_cores']:.0%}" + (" (limited)" if c["limited"] else "")
        lines.append(
            f"| {s['step']} | {s['subscribers']:,} | {d['delivered']:,} | {ratio} | "
            f"{d['lost']:,} | {d['duplicated']:,} | {d['out_of_order']:,} | "
            f"{_fmt(lat['p50_ms'])} | {_fmt(lat['p95_ms'])} | {_fmt(lat['p99_ms'])} | "
            f"{_fmt(lat['max_ms'])} | {s['connections']['refused']:,} | {cpu} | "
            f"{'; '.join(s['breaks']) or 'none'} |"
        )
    lines.append("")
    if cap["sustained_subscribers"] is not None:
        lines.append(
            f"**Sustained: {cap['sustained_subscribers']:,} subscribers** "
            f"({_fmt(cap['subscribers_per_client_core'])} subscribers per client core)."
        )
    else:
        lines.append("**No step was sustained.**")
    if cap["first_break_step"] is not None:
        lines.append(
            f"Thresholds first broken at step {cap['first_break_step']} "
            f"({cap['first_break_subscribers']:,} subscribers): "
            f"{'; '.join(cap['first_break_reasons'])}."
        )
    if cap["client_limited"]:
        lines.append("Client-limited: the load client used more than 90 % of its CPU.")
    return "\n".join(lines) + "\n"


def write_reports(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Validate, then write ``load.json``, ``load-summary.md`` and ``load.html``."""
    from conformance.load.html import render_html

    validate_report(report)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "load.json",
        "markdown": out_dir / "load-summary.md",
        "html": out_dir / "load.html",
    }
    paths["json"].write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    paths["markdown"].write_text(markdown_summary(report), encoding="utf-8")
    paths["html"].write_text(render_html(report), encoding="utf-8")
    return paths
