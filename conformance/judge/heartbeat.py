"""SSE keep-alive, measured on the recording: gaps against the timeout plus an explicit margin.

The margin (``context["heartbeat_tolerance_s"]``, set by the plan as ``HEARTBEAT_TOLERANCE_S`` x
``--timeout-multiplier``; ``DEFAULT_TOLERANCE_S`` for recordings without it) absorbs what the
transport adds to a conformant server's silence: a proxy splitting chunks or a loaded client
reading late pushed a 4 s silence to 4.1 s. It is named in every message.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from conformance.judge.context import JudgeContext
from conformance.judge.http_checks import sse_stream
from conformance.judge.registry import Observation, check, held, noted, unexercised, violated
from conformance.sse.parser import Comment, Event

#: Margin per unit of --timeout-multiplier, and for recordings that name none.
HEARTBEAT_TOLERANCE_S = 1.0
DEFAULT_TOLERANCE_S = 1.0


def tolerance(cx: JudgeContext) -> float:
    """The recorded margin, else ``DEFAULT_TOLERANCE_S`` x the recorded multiplier (if any)."""
    value = cx.context.get("heartbeat_tolerance_s")
    if isinstance(value, int | float) and value >= 0:
        return float(value)
    return DEFAULT_TOLERANCE_S * cx.timeout_multiplier


def _window(cx: JudgeContext) -> tuple[float, float] | None:
    if cx.head is None or cx.status != 200:
        return None
    return cx.head_t, cx.last_t


def _gaps(times: list[float], start: float, stop: float) -> list[float]:
    points = [start, *sorted(t for t in times if start <= t <= stop), stop]
    return [b - a for a, b in pairwise(points)]


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values[:12]) + (" ..." if len(values) > 12 else "")


@check("sse.heartbeat.within-timeout", applies=sse_stream)
def within_timeout(cx: JudgeContext) -> Iterator[Observation]:
    window = _window(cx)
    timeout = cx.heartbeat_timeout_s
    if window is None:
        yield unexercised(f"no 200 response (status {cx.status})")
        return
    start, stop = window
    times = [i.t for i in cx.sse.items if isinstance(i, Comment | Event)]
    gaps = _gaps(times, start, stop)
    largest = max(gaps)
    margin = tolerance(cx)
    if largest > timeout + margin:
        yield violated(
            f"expected a comment or event in every {timeout:g} s window (+{margin:g} s "
            f"margin); observed a silence of {largest:.1f} s (gaps: {_fmt(gaps)} s)"
        )
    elif stop - start >= timeout or _heartbeats(cx):
        yield held(
            f"largest silence {largest:.1f} s over {stop - start:.1f} s (timeout {timeout:g} s)"
        )
    else:
        yield unexercised(_too_short(stop - start, timeout))


@check("sse.heartbeat.interval", applies=sse_stream)
def interval(cx: JudgeContext) -> Iterator[Observation]:
    window = _window(cx)
    timeout = cx.heartbeat_timeout_s
    if window is None:
        yield unexercised(f"no 200 response (status {cx.status})")
        return
    start, stop = window
    times = [c.t for c in cx.sse.comments]
    gaps = _gaps(times, start, stop)
    between = [b - a for a, b in pairwise(times)]
    measured = f"comment intervals {_fmt(between)} s" if between else "no interval measured"
    if max(gaps) > timeout + tolerance(cx):
        yield violated(
            f"expected heartbeat comments about every 15 s; observed a gap of "
            f"{max(gaps):.1f} s without a comment ({measured})"
        )
    elif stop - start >= timeout or _heartbeats(cx):
        yield held(f"heartbeat comments within {timeout:g} s ({measured})")
    else:
        yield unexercised(_too_short(stop - start, timeout))


def _heartbeats(cx: JudgeContext) -> list[Comment]:
    """Comments after the first SSE item (the opener is not a keep-alive)."""
    items = [i for i in cx.sse.items if isinstance(i, Comment | Event)]
    return [i for i in items[1:] if isinstance(i, Comment)]


def _too_short(span: float, timeout: float) -> str:
    return (
        f"recording spans {span:.1f} s without a heartbeat, shorter than the timeout {timeout:g} s"
    )


@check("sse.heartbeat.form", applies=sse_stream)
def form(cx: JudgeContext) -> Iterator[Observation]:
    if cx.head is None or cx.status != 200:
        yield unexercised(f"no 200 response (status {cx.status})")
        return
    lines = cx.body.split(b"\n")
    forms: dict[str, int] = {}
    seen_first = False
    for index, line in enumerate(lines[:-1]):
        if not line.startswith(b":"):
            continue
        if not seen_first:
            seen_first = True  # the opener (':)') is not a heartbeat
            continue
        blank = index + 1 < len(lines) - 1 and lines[index + 1] in (b"", b"\r")
        key = f"{line.decode('utf-8', 'replace')!r} + {'blank line' if blank else 'no blank line'}"
        forms[key] = forms.get(key, 0) + 1
    if not forms:
        yield unexercised("no heartbeat comment after the first comment")
        return
    described = "; ".join(f"{k} x{v}" for k, v in forms.items())
    yield noted(
        f"heartbeat form: {described} (Mastodon >=4.6: ':thump' + blank line; before: "
        "no blank line; both compatible)"
    )
