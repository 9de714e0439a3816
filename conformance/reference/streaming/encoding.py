"""JSON the way Node's streaming server reads and writes it (``JSON.parse`` / ``JSON.stringify``).

Mastodon parses every Redis message and re-serialises object payloads with V8, so what clients see
differs from what Rails published: compact, raw UTF-8 (``\\u003c`` becomes ``<``), integers past
2^53 lose precision (``117693363060746879`` -> ``117693363060746880``), ``1.0`` prints as ``1``,
array-index keys move to the front, lone surrogates are escaped. Python's ``json`` does none of
that on its own.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

_encode_string = json.encoder.encode_basestring  # type: ignore[attr-defined]
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_SAFE = 2**53
_MAX_INDEX = 2**32 - 2


class NotJSON(ValueError):
    """The message is not something ``JSON.parse`` accepts."""


def _reject_constant(name: str) -> Any:
    raise NotJSON(f"{name} is not JSON")


def parse(text: str) -> Any:
    """``JSON.parse``: strict JSON (no NaN/Infinity), duplicate keys keep the last value."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise NotJSON(str(exc)) from exc


def stringify(value: Any) -> str:
    """``JSON.stringify`` of a parsed value: compact, raw UTF-8, V8 number and key order rules."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int | float):
        out.append(js_number(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key in _v8_key_order(value):
            if not first:
                out.append(",")
            first = False
            out.append(_string(str(key)))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def _string(text: str) -> str:
    encoded: str = _encode_string(text)
    if _LONE_SURROGATE.search(encoded):
        encoded = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)
    return encoded


def _is_array_index(key: str) -> bool:
    return (
        key.isdigit() and key.isascii() and (key == "0" or key[0] != "0") and int(key) <= _MAX_INDEX
    )


def _v8_key_order(obj: dict[Any, Any]) -> list[Any]:
    """V8 lists integer-like keys first in ascending order, then the rest in insertion order."""
    keys = list(obj)
    indices = [k for k in keys if isinstance(k, str) and _is_array_index(k)]
    if not indices:
        return keys
    rest = [k for k in keys if not (isinstance(k, str) and _is_array_index(k))]
    return sorted(indices, key=int) + rest


def js_number(value: float) -> str:
    """``Number.prototype.toString`` (ECMA-262 Number::toString) of the double nearest ``value``."""
    if isinstance(value, int) and abs(value) < _MAX_SAFE:
        return str(value)
    try:
        number = float(value)
    except OverflowError:
        return "null"
    if math.isnan(number) or math.isinf(number):
        return "null"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    # repr() gives the shortest round-trip digits, as V8 does; only the layout differs.
    digits_tuple = Decimal(repr(abs(number))).normalize().as_tuple()
    digits = "".join(str(d) for d in digits_tuple.digits)
    exponent = int(digits_tuple.exponent)
    k = len(digits)
    n = exponent + k  # value = 0.digits * 10**n
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        exp = f"e{'+' if e >= 0 else '-'}{abs(e)}"
        body = (digits if k == 1 else f"{digits[0]}.{digits[1:]}") + exp
    return sign + body


def js_string(value: Any) -> str:
    """String(value) for the primitive values a query or JSON parameter can carry."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return js_number(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness of a parsed JSON value (``{}`` and ``[]`` are truthy)."""
    if value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True
