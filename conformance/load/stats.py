"""One process's load figures as a JSON-ready dict, and the exact merge of several of them.

Every process that holds subscribers (a multiprocessing worker, a Locust worker) turns its
tallies into the same ``part`` dict (``summarize``); the controller or the Locust master adds the
parts together (``merge_parts``). Counts add, histograms merge bucket by bucket, maxima take the
maximum, so the merged figures are exactly those one process holding every subscriber would
have produced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from conformance.load.cores import Sink, Tally
from conformance.load.histogram import Histogram

__all__ = ["merge_parts", "summarize"]

TRANSPORTS = ("sse", "ws")


def _empty_transport() -> dict[str, int]:
    return {"subscribers": 0, "expected": 0, "delivered": 0, "lost": 0}


def summarize(
    tallies: Sequence[Tally],
    sink: Sink,
    produced: Iterable[int],
    *,
    now: float,
    keepalive_timeout_s: dict[str, float],
    cpu_s: float,
    wall_s: float,
) -> dict[str, Any]:
    """The part dict of one process at the end of a measurement window."""
    wanted = frozenset(produced)
    setup = Histogram()
    refusals: Counter[str] = Counter()
    closures: Counter[str] = Counter()
    by_transport = {t: _empty_transport() for t in TRANSPORTS}
    keepalive = {t: {"measured": 0, "missed": 0, "max_gap_ms": 0.0} for t in TRANSPORTS}
    part: dict[str, Any] = {
        "subscribers": len(tallies),
        "connected": 0,
        "refused": 0,
        "ready": 0,
        "closed_early": 0,
        "expected": 0,
        "delivered": 0,
        "lost": 0,
        "duplicated": 0,
        "out_of_order": 0,
    }
    for tally in tallies:
        tally.finish(now)
        row = by_transport[tally.transport]
        row["subscribers"] += 1
        if tally.refused is not None or tally.status is None:
            part["refused"] += 1
            refusals[_reason(tally)] += 1
        else:
            part["connected"] += 1
            if tally.setup_s is not None:
                setup.record(tally.setup_s * 1e6)
        part["ready"] += int(tally.ready)
        if tally.closed is not None and tally.refused is None:
            part["closed_early"] += 1
            closures[f"{tally.transport}: {_short(tally.closed)}"] += 1
        got = len(tally.seen & wanted) if wanted else 0
        part["expected"] += len(wanted)
        part["delivered"] += got
        part["lost"] += len(wanted) - got
        part["duplicated"] += tally.duplicated
        part["out_of_order"] += tally.out_of_order
        row["expected"] += len(wanted)
        row["delivered"] += got
        row["lost"] += len(wanted) - got
        _keepalive(keepalive[tally.transport], tally, now, keepalive_timeout_s)
    part["refusals"] = dict(refusals)
    part["closures"] = dict(closures)
    part["setup"] = setup.to_json()
    part["latency"] = sink.latency.to_json()
    part["timeline"] = {str(k): h.to_json() for k, h in sorted(sink.timeline.items())}
    part["by_transport"] = by_transport
    part["keepalive"] = keepalive
    part["cpu_s"] = round(cpu_s, 4)
    part["wall_s"] = round(wall_s, 4)
    part["processes"] = [{"cpu_s": round(cpu_s, 4), "wall_s": round(wall_s, 4)}]
    return part


def _reason(tally: Tally) -> str:
    return _short(tally.refused or "no response")


def _short(reason: str) -> str:
    return reason if len(reason) <= 80 else reason[:77] + "..."


def _keepalive(row: dict[str, Any], tally: Tally, now: float, timeouts: dict[str, float]) -> None:
    """A subscriber is judged on keep-alives only if it stayed open longer than the timeout."""
    timeout = timeouts.get(tally.transport)
    if timeout is None or tally.status is None or tally.refused is not None:
        return
    end = tally.closed_at if tally.closed_at is not None else now
    if end - tally.started <= timeout:
        return
    row["measured"] += 1
    row["max_gap_ms"] = max(row["max_gap_ms"], round(tally.max_keepalive_gap * 1000, 1))
    if tally.max_keepalive_gap > timeout:
        row["missed"] += 1


_SUMS = (
    "subscribers",
    "connected",
    "refused",
    "ready",
    "closed_early",
    "expected",
    "delivered",
    "lost",
    "duplicated",
    "out_of_order",
)


def merge_parts(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Add the parts of several processes (exact: counts add, histograms merge)."""
    out: dict[str, Any] = {key: sum(int(p.get(key, 0)) for p in parts) for key in _SUMS}
    refusals: Counter[str] = Counter()
    closures: Counter[str] = Counter()
    for p in parts:
        refusals.update(p.get("refusals", {}))
        closures.update(p.get("closures", {}))
    out["refusals"] = dict(refusals)
    out["closures"] = dict(closures)
    out["setup"] = Histogram.merged(Histogram.from_json(p["setup"]) for p in parts).to_json()
    out["latency"] = Histogram.merged(Histogram.from_json(p["latency"]) for p in parts).to_json()
    timeline: dict[str, Histogram] = {}
    for p in parts:
        for second, hist in p.get("timeline", {}).items():
            timeline.setdefault(second, Histogram()).merge(Histogram.from_json(hist))
    out["timeline"] = {k: timeline[k].to_json() for k in sorted(timeline, key=int)}
    out["by_transport"] = {
        t: {key: sum(int(p["by_transport"][t][key]) for p in parts) for key in _empty_transport()}
        for t in TRANSPORTS
    }
    out["keepalive"] = {
        t: {
            "measured": sum(int(p["keepalive"][t]["measured"]) for p in parts),
            "missed": sum(int(p["keepalive"][t]["missed"]) for p in parts),
            "max_gap_ms": max([float(p["keepalive"][t]["max_gap_ms"]) for p in parts] or [0.0]),
        }
        for t in TRANSPORTS
    }
    out["cpu_s"] = round(sum(float(p.get("cpu_s", 0.0)) for p in parts), 4)
    out["wall_s"] = round(max([float(p.get("wall_s", 0.0)) for p in parts] or [0.0]), 4)
    out["processes"] = [proc for p in parts for proc in p.get("processes", [])]
    out["sample"] = merge_samples([p["sample"] for p in parts if p.get("sample")])
    return out


def merge_samples(samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    verdicts: Counter[str] = Counter()
    for s in samples:
        verdicts.update(s.get("verdicts", {}))
    failures = [f for s in samples for f in s.get("failures", [])]
    return {
        "transcripts": sum(int(s.get("transcripts", 0)) for s in samples),
        "verdicts": dict(sorted(verdicts.items())),
        "failures": failures[:20],
        "failure_count": sum(int(s.get("failure_count", 0)) for s in samples),
    }
