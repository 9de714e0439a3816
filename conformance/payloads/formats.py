"""The string formats the schemas use, checked by small explicit functions.

The detailed validator (``jsonschema``) checks exactly these four formats and no others:

* ``date-time``: RFC 3339 ``date-time`` (``rfc3339-validator``);
* ``date``: RFC 3339 ``full-date`` (``YYYY-MM-DD``, a real calendar day);
* ``uri``: RFC 3986 ``URI`` (``rfc3986-validator``: a scheme is required);
* ``iri``: RFC 3987 3.1, an IRI is valid when its UTF-8 percent-encoded URI form is.

Why not ``jsonschema[format-nongpl]``: that extra pulls in ``rfc3987-syntax``, which builds some
forty lark grammars when imported (seconds of start-up for every command), and ``jsonschema``
silently skips a format whose optional package is missing. Registering our own checkers makes
the formats explicit, cheap to import, and impossible to lose to a missing extra. The compiled
fast path (jsonschema-rs) checks the same formats natively; ``tests/payloads`` holds both paths
to the same verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import quote

import rfc3339_validator
import rfc3986_validator

if TYPE_CHECKING:
    from jsonschema import FormatChecker

_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def is_date_time(text: str) -> bool:
    # RFC 3339 5.6 allows a lower-case "t" and "z"; the validator only knows upper case.
    return bool(rfc3339_validator.validate_rfc3339(text.upper()))


def is_date(text: str) -> bool:
    if not _FULL_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def is_uri(text: str) -> bool:
    return bool(rfc3986_validator.validate_rfc3986(text, rule="URI"))


def is_iri(text: str) -> bool:
    """RFC 3987 3.1 mapping: percent-encode every non-ASCII character, then check the URI.

    A full IRI grammar parser costs ~20 ms per string, which would make the detailed path
    useless on Status payloads; this mapping is the RFC's own.
    """
    return is_uri("".join(char if char < "\x80" else quote(char, safe="") for char in text))


FORMATS: dict[str, Callable[[str], bool]] = {
    "date-time": is_date_time,
    "date": is_date,
    "uri": is_uri,
    "iri": is_iri,
}
"""Format name -> checker of a string (non-strings always pass: ``type`` judges those)."""


def _strings_only(check: Callable[[str], bool]) -> Callable[[object], bool]:
    def checker(instance: object) -> bool:
        return not isinstance(instance, str) or check(instance)

    checker.__doc__ = check.__doc__
    return checker


def format_checker() -> FormatChecker:
    """A ``jsonschema`` FormatChecker holding exactly ``FORMATS`` (imports jsonschema)."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    for name, check in FORMATS.items():
        checker.checkers[name] = (_strings_only(check), ())
    return checker
