"""Payload validation throughput on the real Status payloads of the Mastodon captures.

Run: ``python bench/bench_validation.py [--seconds 2] [--captures DIR]``. Pinned to one core.
Prints payloads per second for the compiled fast path (jsonschema-rs), the detailed path
(``jsonschema``, which only runs when the fast path says invalid) and the public API
(``check_event``), each with format assertion on. The README quotes these figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from conformance.payloads import PayloadValidator  # noqa: E402
from conformance.payloads.samples import iter_captures  # noqa: E402

DEFAULT_CAPTURES = REPO.parent / "shared" / "captures" / "mastodon-4.8.0-alpha.1"
MALFORMED = ("sse-22-", "ws-30-", "crash-")
STATUS = "status.schema.json"


def status_payloads(captures: Path) -> list[dict[str, Any]]:
    return [
        item.payload
        for item in iter_captures(captures)
        if item.event in ("update", "status.update")
        and isinstance(item.payload, dict)
        and not item.capture.startswith(MALFORMED)
    ]


def rate(check: Callable[[Any], object], payloads: list[Any], seconds: float) -> float:
    """Payloads per second, repeating the corpus until ``seconds`` have passed."""
    for payload in payloads:  # warm-up
        check(payload)
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for payload in payloads:
            check(payload)
        done += len(payloads)
    return done / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--captures", type=Path, default=DEFAULT_CAPTURES)
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    payloads = status_payloads(args.captures)
    if not payloads:
        print(f"no Status payloads found in {args.captures}", file=sys.stderr)
        return 1

    started = time.perf_counter()
    validator = PayloadValidator.default()  # compiles nothing yet: each schema on first use
    assert all(validator.is_valid_fast(STATUS, p) for p in payloads)
    assert all(validator.is_documented_fast(STATUS, p) for p in payloads)
    build_s = time.perf_counter() - started
    assert all(validator.is_valid_detailed(STATUS, p) for p in payloads)

    fast = rate(lambda p: validator.is_valid_fast(STATUS, p), payloads, args.seconds)
    detailed = rate(lambda p: validator.is_valid_detailed(STATUS, p), payloads, args.seconds)
    api = rate(
        lambda p: validator.check_event("update", p, stream="public"), payloads, args.seconds
    )

    print(f"Status schema, {len(payloads)} real Status payloads from {args.captures.name}")
    print(f"python {platform.python_version()}, one core, format assertion on")
    print(f"first Status payloads (compiles the fast path, open+strict): {build_s * 1000:.0f} ms")
    print(f"fast path     (jsonschema-rs is_valid):  {fast:>10,.0f} payloads/s")
    print(f"detailed path (jsonschema is_valid):     {detailed:>10,.0f} payloads/s")
    print(f"check_event   (public API, valid input): {api:>10,.0f} payloads/s")
    print(f"fast / detailed: {fast / detailed:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
