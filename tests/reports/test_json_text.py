"""``dumps_indented`` writes exactly ``json.dumps(obj, indent=2, ensure_ascii=False)``."""

from __future__ import annotations

import io
import json
import math
from enum import IntEnum, StrEnum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.reports.json_text import dump_indented, dumps_indented


class Colour(StrEnum):
    RED = "red"


class Number(IntEnum):
    ONE = 1


def _same(obj: Any) -> None:
    assert dumps_indented(obj) == json.dumps(obj, indent=2, ensure_ascii=False)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.sampled_from([Colour.RED, Number.ONE, "\u2028", "a\nb", '\x00\x1f"\\', "é😀"]),
)
_keys = st.one_of(st.text(max_size=8), st.integers(), st.sampled_from([None, True, 1.5]))
_json = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.tuples(children, children),
        st.dictionaries(st.text(max_size=8), children, max_size=5),
        st.dictionaries(_keys, children, max_size=3),
    ),
    max_leaves=40,
)


@given(_json)
@settings(max_examples=400, deadline=None)
def test_same_text_as_json_dumps(obj: Any) -> None:
    _same(obj)


# Rows whose text looks like the layout between rows: only raw newlines could make it so.
_tricky = st.sampled_from(["},\n      {", "}, {", "{", "}", '"}', "\n", ",\n      "])
_rows = st.lists(
    st.dictionaries(st.text(max_size=6) | _tricky, _scalars | _tricky, min_size=1, max_size=4),
    min_size=1,
    max_size=5,
)


@given(_rows, st.integers(min_value=0, max_value=3))
@settings(max_examples=300, deadline=None)
def test_tables_of_rows(rows: list[dict[str, Any]], depth: int) -> None:
    obj: Any = rows
    for _ in range(depth):
        obj = {"k": obj, "n": [1]}
    _same(obj)


@pytest.mark.parametrize(
    "obj",
    [
        {},
        [],
        (),
        {"results": [{"id": "a[b]", "verdict": "pass", "evidence": None}, {}], "n": 1},
        {"results": [{"id": "a", "v": 1}, {"id": "b}, {", "v": None}], "o": [{"x": "}"}]},
        {"nested": {"deep": [[], [1, [2, {"x": ()}]], {"k": {}}]}, "empty": {}},
        [{"x": math.inf, "y": -0.0, "z": 1e-7, "w": 10**30}],
        {"a": {1: "int key", "b": [Colour.RED]}, "c": Number.ONE},
    ],
)
def test_report_shapes(obj: Any) -> None:
    _same(obj)


def test_same_errors_as_json_dumps() -> None:
    loop: list[Any] = [[1]]
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_indented({"a": loop})
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_indented({"a": [{"b": object()}]})


def test_long_table_in_pieces_and_to_a_file() -> None:
    rows = [{"id": f"case-{i}", "message": "},\n    {" * (i % 3), "n": i} for i in range(200)]
    report = {"results": rows, "observations": rows[:65], "summary": {"pass": 200}}
    _same(report)
    file = io.StringIO()
    dump_indented(report, file)
    assert file.getvalue() == json.dumps(report, indent=2, ensure_ascii=False)
