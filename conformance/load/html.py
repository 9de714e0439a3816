"""``load.html``: one self-contained page (inline SVG charts drawn by matplotlib, no script).

Charts people would rather look at than read: latency percentiles and delivery ratio against
the number of subscribers (one point per step), the same over time within each step, and the
client's own CPU, so a result the client limited is visible as such. Every figure is also in
the tables below the charts (and in ``load.json``).
"""

from __future__ import annotations

import html
import io
import re
from typing import Any

__all__ = ["render_html"]

_PERCENTILES = (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"), ("max_ms", "max"))


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.find("<svg") :]  # drop the XML prolog and DOCTYPE: inline in HTML


def _figure(title: str, xlabel: str, ylabel: str) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.2, 3.6), dpi=100)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _latency_vs_subscribers(steps: list[dict[str, Any]]) -> str:
    fig, ax = _figure("Latency against subscribers", "subscribers", "latency (ms)")
    xs = [s["subscribers"] for s in steps]
    for key, label in _PERCENTILES:
        ys = [s["latency_ms"][key] for s in steps]
        points = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=label)
    if any(s["latency_ms"]["max_ms"] for s in steps):
        ax.set_yscale("log")
    ax.legend()
    return _svg(fig)


def _delivery_vs_subscribers(steps: list[dict[str, Any]]) -> str:
    fig, ax = _figure("Delivery ratio against subscribers", "subscribers", "delivered / expected")
    xs = [s["subscribers"] for s in steps]
    ys = [s["delivery"]["ratio"] if s["delivery"]["ratio"] is not None else 0 for s in steps]
    ax.plot(xs, ys, marker="o", color="tab:green")
    for s in steps:
        if s["breaks"]:
            ax.axvline(s["subscribers"], color="tab:red", linestyle="--", alpha=0.6)
            break
    ax.set_ylim(min([0.9, *ys]) - 0.01, 1.005)
    return _svg(fig)


def _over_time(steps: list[dict[str, Any]], key: str, title: str, ylabel: str) -> str:
    fig, ax = _figure(title, "seconds into the step (by stimulus time)", ylabel)
    for s in steps:
        points = [(row["t_s"], row[key]) for row in s["timeline"] if row[key] is not None]
        if points:
            ax.plot(*zip(*points, strict=True), marker=".", label=f"{s['subscribers']:,}")
    if steps:
        ax.legend(title="subscribers", fontsize="small")
    return _svg(fig)


def _cpu(steps: list[dict[str, Any]]) -> str:
    fig, ax = _figure("Load client CPU", "subscribers", "fraction of the client's cores")
    xs = [s["subscribers"] for s in steps]
    ax.plot(xs, [s["client"]["cpu_fraction_of_cores"] for s in steps], marker="o", label="all")
    ax.plot(
        xs,
        [s["client"]["max_process_cpu_fraction"] for s in steps],
        marker="s",
        label="busiest process",
    )
    ax.axhline(0.9, color="tab:red", linestyle="--", alpha=0.6, label="client-limited")
    ax.legend()
    return _svg(fig)


def _e(value: Any) -> str:
    return html.escape("–" if value is None else str(value))


def _table(steps: list[dict[str, Any]]) -> str:
    head = (
        "<tr><th>step</th><th>subscribers</th><th>SSE / WS</th><th>delivered</th><th>ratio</th>"
        "<th>lost</th><th>dup</th><th>out of order</th><th>p50</th><th>p95</th><th>p99</th>"
        "<th>max</th><th>setup p99</th><th>refused / cut</th><th>keep-alives missed</th>"
        "<th>client CPU</th><th>sample verdicts</th><th>breaks</th></tr>"
    )
    rows = []
    for s in steps:
        d, lat, c = s["delivery"], s["latency_ms"], s["client"]
        ka = s["keepalive"]
        missed = f"{ka['sse']['missed']}/{ka['sse']['measured']} SSE, "
        missed += f"{ka['ws']['missed']}/{ka['ws']['measured']} WS"
        ratio = "–" if d["ratio"] is None else f"{d['ratio']:.4%}"
        verdicts = ", ".join(f"{k} {v}" for k, v in s["sample"]["verdicts"].items())
        cls = ' class="broken"' if s["breaks"] else ""
        rows.append(
            f"<tr{cls}><td>{s['step']}</td><td>{s['subscribers']:,}</td>"
            f"<td>{s['by_transport']['sse']['subscribers']:,} / "
            f"{s['by_transport']['ws']['subscribers']:,}</td>"
            f"<td>{d['delivered']:,}</td><td>{ratio}</td><td>{d['lost']:,}</td>"
            f"<td>{d['duplicated']:,}</td><td>{d['out_of_order']:,}</td>"
            f"<td>{_e(lat['p50_ms'])}</td><td>{_e(lat['p95_ms'])}</td><td>{_e(lat['p99_ms'])}</td>"
            f"<td>{_e(lat['max_ms'])}</td><td>{_e(s['connections']['setup_ms']['p99_ms'])}</td>"
            f"<td>{s['connections']['refused']:,} / {s['connections']['closed_early']:,}</td>"
            f"<td>{_e(missed)}</td>"
            f"<td>{c['cpu_fraction_of_cores']:.0%}{' (limited)' if c['limited'] else ''}</td>"
            f"<td>{_e(verdicts)}</td><td>{_e('; '.join(s['breaks']) or 'none')}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:.3em .5em;
text-align:right}tr.broken td{background:#fde8e8}.charts{display:flex;flex-wrap:wrap;gap:1em}
.charts svg{max-width:100%;height:auto}.summary{font-size:1.1em}
"""


def render_html(report: dict[str, Any]) -> str:
    steps = report["steps"]
    cap = report["capacity"]
    charts = [
        _latency_vs_subscribers(steps),
        _delivery_vs_subscribers(steps),
        _over_time(steps, "p99_ms", "p99 latency over time", "p99 latency (ms)"),
        _over_time(steps, "ratio", "Delivery ratio over time", "delivered / expected"),
        _cpu(steps),
    ]
    summary = (
        f"Sustained <b>{_e(cap['sustained_subscribers'])}</b> subscribers "
        f"({_e(cap['subscribers_per_client_core'])} per client core); thresholds first broken "
        f"at step {_e(cap['first_break_step'])}: {_e('; '.join(cap['first_break_reasons']))}."
    )
    if cap["client_limited"]:
        summary += " <b>Client-limited</b>: the load client used more than 90 % of its CPU."
    target = report["target"]
    machine = report.get("machine", {})
    body = (
        f"<h1>Streaming load: {_e(target['url'])}</h1>"
        f"<p class='summary'>{summary}</p>"
        f"<p>Transport {_e(report['config']['transport'])}, streams "
        f"{_e(', '.join(report['config']['streams']))}, {_e(report['config']['rate'])} stimuli/s "
        f"for {_e(report['config']['duration_s'])} s per step. Machine: "
        f"{_e(machine.get('cores'))} cores, load average {_e(machine.get('loadavg_start'))} "
        f"at the start. Run {_e(report['run_id'])}, {_e(report['started_at'])}.</p>"
        f"<div class='charts'>{''.join(charts)}</div><h2>Steps</h2>{_table(steps)}"
    )
    body = re.sub(r"<!--.*?-->", "", body, flags=re.S)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Streaming load: {_e(target['url'])}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )
