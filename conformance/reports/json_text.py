"""``json.dumps(obj, indent=2, ensure_ascii=False)``, the same text, mostly from the C encoder.

Why: with ``indent`` the standard library falls back to its pure-Python encoder, one generator
step per value: report.json (a row per case, ~1000 of them, plus the run's observations) took
~30 ms of the ~0.25 s a run spends writing its reports. But a container that holds only
scalars needs no recursion: the C encoder writes it in one call when its item separator carries
the newline and the indentation of its depth, and a list of such rows (the cases) in one call
too, re-indented between rows. So only the report's skeleton is walked here, and anything
unusual (a non-string key, a str or int subclass, an empty container) is handed to
``json.dumps`` itself and re-indented, which is exact because encoded JSON holds no raw newline
outside the layout. The output is byte-identical to ``json.dumps``
(``tests/reports/test_json_text.py`` compares the two).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["dump_indented", "dumps_indented"]

_INDENT = "  "
#: Exactly these types are written by the C encoder as a leaf (subclasses go to ``json.dumps``).
_SCALARS = frozenset({str, int, float, bool, type(None)})
_STR = frozenset({str})
_OPEN_CLOSE = {dict: ("{", "}"), list: ("[", "]"), tuple: ("[", "]")}
#: Rows encoded per C-encoder call: pieces of ~30 kB. One piece per table (~0.5 MB for a run)
#: would cost more than it saves: each large temporary string is fresh memory from the kernel,
#: thousands of page faults (~20 ms of system time).
_ROWS_PER_PIECE = 64


def dumps_indented(obj: Any) -> str:
    """The text of ``json.dumps(obj, indent=2, ensure_ascii=False)``, same errors included."""
    return "".join(_pieces(obj))


def dump_indented(obj: Any, file: TextIO) -> None:
    """``dumps_indented(obj)`` written to ``file`` piece by piece (no one large string)."""
    file.writelines(_pieces(obj))


def _pieces(obj: Any) -> list[str]:
    out: list[str] = []
    _write(obj, 0, out, set())
    return out


@functools.cache
def _encoder(depth: int) -> Callable[[Any], str]:
    """One C-encoder call per scalar or container of scalars at ``depth``: its items separated
    by a newline and the indentation of their level."""
    separator = ",\n" + _INDENT * (depth + 1)
    return json.JSONEncoder(ensure_ascii=False, separators=(separator, ": ")).encode


def _write(obj: Any, depth: int, out: list[str], active: set[int]) -> None:
    kind = type(obj)
    if kind in _SCALARS:
        out.append(_encoder(depth)(obj))
        return
    brackets = _OPEN_CLOSE.get(kind)
    if brackets is None or not obj or (kind is dict and not _STR.issuperset(map(type, obj))):
        out.append(_stdlib(obj, depth))
        return
    values = obj.values() if kind is dict else obj
    closing = "\n" + _INDENT * depth + brackets[1]
    if _SCALARS.issuperset(map(type, values)):
        text = _encoder(depth)(obj)  # '{"a": 1,\n    "b": 2}': only the outer breaks missing
        out.append(brackets[0] + "\n" + _INDENT * (depth + 1) + text[1:-1] + closing)
    elif kind is not dict and all(map(_is_row, obj)):
        _table(obj, depth, out)
    else:
        _write_nested(obj, depth, out, active, brackets[0], closing)


def _is_row(value: Any) -> bool:
    """A table row: a non-empty dict of string keys and scalar values (a case of report.json)."""
    return (
        type(value) is dict
        and bool(value)
        and _STR.issuperset(map(type, value))
        and _SCALARS.issuperset(map(type, value.values()))
    )


def _table(rows: Any, depth: int, out: list[str]) -> None:
    """A list of rows (``_is_row``), a C-encoder call per ``_ROWS_PER_PIECE`` rows with the
    items separated at the rows' depth.

    The separators between rows are then re-indented to the list's depth: they are the only
    ones followed by ``{`` (inside a row a key follows), and no encoded string holds a raw
    newline, so ``},<newline><indent>{`` occurs nowhere else.
    """
    row, item = _INDENT * (depth + 1), _INDENT * (depth + 2)
    between = "\n" + row + "},\n" + row + "{\n" + item
    out.append("[\n" + row + "{\n" + item)
    for start in range(0, len(rows), _ROWS_PER_PIECE):
        if start:
            out.append(between)
        text = _encoder(depth + 1)(rows[start : start + _ROWS_PER_PIECE])
        out.append(text[2:-2].replace("},\n" + item + "{", between))  # '[{"a": 1,... }]'
    out.append("\n" + row + "}\n" + _INDENT * depth + "]")


def _write_nested(
    obj: Any, depth: int, out: list[str], active: set[int], opening: str, closing: str
) -> None:
    """A container holding containers: one item a line, each written by ``_write``."""
    if id(obj) in active:
        raise ValueError("Circular reference detected")  # json.dumps' own error
    active.add(id(obj))
    out.append(opening)
    separator = "\n" + _INDENT * (depth + 1)
    if type(obj) is dict:
        key_text = _encoder(0)
        for key, value in obj.items():
            out.append(separator)
            out.append(key_text(key) + ": ")
            _write(value, depth + 1, out, active)
            separator = ",\n" + _INDENT * (depth + 1)
    else:
        for value in obj:
            out.append(separator)
            _write(value, depth + 1, out, active)
            separator = ",\n" + _INDENT * (depth + 1)
    out.append(closing)
    active.discard(id(obj))


def _stdlib(obj: Any, depth: int) -> str:
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + _INDENT * depth) if depth else text
