"""The latency histogram: bucket bounds, bounded error, and exact merging across processes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from conformance.load.histogram import Histogram, bucket_bounds, bucket_of

values = st.lists(st.integers(min_value=0, max_value=10**9), max_size=300)


@given(st.integers(min_value=0, max_value=10**12))
def test_every_value_falls_inside_its_bucket_and_buckets_are_tight(value: int) -> None:
    low, high = bucket_bounds(bucket_of(value))
    assert low <= value <= high
    assert high - low <= max(0, low // 64)  # at most 1/64 relative width


def test_buckets_are_contiguous() -> None:
    previous_high = -1
    for index in range(0, 2000):
        low, high = bucket_bounds(index)
        assert low == previous_high + 1, index
        previous_high = high


@given(values, values)
def test_merge_is_exact(left: list[int], right: list[int]) -> None:
    a, b, whole = Histogram(), Histogram(), Histogram()
    for v in left:
        a.record(v)
        whole.record(v)
    for v in right:
        b.record(v)
        whole.record(v)
    merged = Histogram.from_json(a.to_json()).merge(Histogram.from_json(b.to_json()))
    assert merged == whole
    for q in (50, 95, 99, 100):
        assert merged.percentile(q) == whole.percentile(q)


@given(st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=400))
def test_percentiles_are_within_the_bucket_error_of_the_exact_ones(data: list[int]) -> None:
    hist = Histogram()
    for v in data:
        hist.record(v)
    ordered = sorted(data)
    for q in (50, 95, 99):
        rank = max(1, -(-q * len(ordered) // 100))
        exact = ordered[rank - 1]
        got = hist.percentile(q)
        assert got is not None
        assert exact <= got <= exact + exact // 64 + 1
    assert hist.percentile(100) == max(data)
    assert hist.min == min(data)


def test_empty_histogram_reports_nothing() -> None:
    h = Histogram()
    assert h.percentile(99) is None
    assert h.summary_ms()["p99_ms"] is None


def test_negative_latency_counts_as_zero() -> None:
    h = Histogram()
    h.record(-5)
    assert h.min == 0 and h.count == 1
