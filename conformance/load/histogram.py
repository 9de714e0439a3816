"""A log-bucketed latency histogram whose merge is exact (integer counts per fixed bucket).

Latencies are recorded per event and subscriber in several processes (one per core, or one per
Locust worker) and merged afterwards, so the histogram must be *mergeable*: merging the
histograms of two halves must give exactly the histogram of the whole. Fixed, data-independent
bucket boundaries with integer counts have that property (a sample reservoir or a t-digest do
not). Buckets follow HdrHistogram's layout: values below 128 µs are exact, above that every
power of two is split into 64 linear sub-buckets, so a reported percentile is at most 1/64
(1.6 %) above the true value. Values are integer microseconds; min, max, count and sum are exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Histogram", "bucket_bounds", "bucket_of"]

_SUB_BITS = 7
_EXACT = 1 << _SUB_BITS  # values below this have a bucket each
_HALF = _EXACT >> 1


def bucket_of(value: int) -> int:
    """The bucket index of a non-negative integer value."""
    if value < _EXACT:
        return value
    shift = value.bit_length() - _SUB_BITS
    return (shift << (_SUB_BITS - 1)) + (value >> shift)


def bucket_bounds(index: int) -> tuple[int, int]:
    """(lowest, highest) value that falls into bucket ``index``."""
    if index < _EXACT:
        return index, index
    shift = index // _HALF - 1
    mantissa = index - shift * _HALF
    return mantissa << shift, ((mantissa + 1) << shift) - 1


@dataclass
class Histogram:
    """Counts of integer values (microseconds) in fixed log-linear buckets."""

    counts: dict[int, int] = field(default_factory=dict)
    count: int = 0
    total: int = 0
    min: int | None = None
    max: int | None = None

    def record(self, value: float, times: int = 1) -> None:
        """Add ``value`` (negative values, e.g. from clock skew, count as 0)."""
        v = max(0, int(value))
        index = bucket_of(v)
        self.counts[index] = self.counts.get(index, 0) + times
        self.count += times
        self.total += v * times
        self.min = v if self.min is None else min(self.min, v)
        self.max = v if self.max is None else max(self.max, v)

    def merge(self, other: Histogram) -> Histogram:
        """Add ``other`` into this histogram (exact) and return self."""
        for index, n in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + n
        self.count += other.count
        self.total += other.total
        if other.min is not None:
            self.min = other.min if self.min is None else min(self.min, other.min)
        if other.max is not None:
            self.max = other.max if self.max is None else max(self.max, other.max)
        return self

    @classmethod
    def merged(cls, parts: Iterable[Histogram]) -> Histogram:
        out = cls()
        for part in parts:
            out.merge(part)
        return out

    def percentile(self, q: float) -> int | None:
        """The value at quantile ``q`` (0..100): the highest value of the bucket holding the
        sample of rank ceil(q/100 * count), clamped to the exact min and max; None if empty."""
        if self.count == 0 or self.min is None or self.max is None:
            return None
        rank = min(self.count, max(1, math.ceil(q * self.count / 100 - 1e-9)))
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                return max(self.min, min(self.max, bucket_bounds(index)[1]))
        return self.max

    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def summary_ms(self) -> dict[str, float | int | None]:
        """count, mean, p50, p95, p99 and max in milliseconds (the report's shape)."""

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value / 1000.0, 3)

        return {
            "count": self.count,
            "mean_ms": ms(self.mean()),
            "p50_ms": ms(self.percentile(50)),
            "p95_ms": ms(self.percentile(95)),
            "p99_ms": ms(self.percentile(99)),
            "max_ms": ms(self.max),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": {str(k): v for k, v in sorted(self.counts.items())},
            "count": self.count,
            "total": self.total,
            "min": self.min,
            "max": self.max,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Histogram:
        return cls(
            counts={int(k): int(v) for k, v in dict(obj.get("counts", {})).items()},
            count=int(obj.get("count", 0)),
            total=int(obj.get("total", 0)),
            min=obj.get("min"),
            max=obj.get("max"),
        )
