"""Case selection by id pattern, shared by ``--exclude``, baselines and the session.

Case ids contain brackets (``delivery.update.arrives[sse-public-update]``), so only ``*`` and
``?`` are wildcards; everything else, ``[`` included, is literal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def id_glob(pattern: str) -> re.Pattern[str]:
    """A full-match regex for an id pattern: ``*`` any run, ``?`` one character, rest literal."""
    parts = [".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.DOTALL)


def matches_any(patterns: Iterable[re.Pattern[str]], case_id: str, requirement: str) -> bool:
    """Whether a case is named by any pattern, through its case id or its requirement id."""
    return any(p.fullmatch(case_id) or p.fullmatch(requirement) for p in patterns)
