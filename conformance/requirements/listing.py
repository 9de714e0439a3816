"""CLI ``list``: the requirement registry as a text table or JSON.

Its own module, importing nothing but the registry, so ``mastodon-streaming-conformance list``
starts in a fraction of a second (no judge, report or schema library is imported).
"""

from __future__ import annotations

import json
import sys

from conformance.requirements import REGISTRY

EXIT_OK, EXIT_USAGE = 0, 2


def list_main(fmt: str) -> int:
    """Print every requirement (``text`` table or ``json``); 2 for an unknown format."""
    rows = [
        {
            "id": r.id,
            "level": r.level.value,
            "source": r.source,
            "clause": r.clause,
            "description": r.description,
            **({"level_reason": r.level_reason} if r.level_reason else {}),
        }
        for r in sorted(REGISTRY.values(), key=lambda r: r.id)
    ]
    if fmt == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    if fmt not in ("text", "table"):
        print(f"list: unknown format {fmt!r} (text or json)", file=sys.stderr)
        return EXIT_USAGE
    width = max(len(r["id"]) for r in rows)
    print(f"{'ID':<{width}}  {'LEVEL':<6}  {'SOURCE':<7}  DESCRIPTION")
    for row in rows:
        print(f"{row['id']:<{width}}  {row['level']:<6}  {row['source']:<7}  {row['description']}")
        if row.get("level_reason"):
            print(f"{'':<{width}}  level: {row['level_reason']}")
    print(f"{len(rows)} requirements")
    return EXIT_OK
