"""Reading transcripts that may come from anywhere: bounded, validated, one clear error.

Why: ``replay`` takes transcripts attached to bug reports, i.e. untrusted input. A JSON array or
``null`` as a line, a wrong field type, deep nesting or a record whose data is a number used to
end in AttributeError/TypeError/RecursionError tracebacks, a FIFO named ``*.jsonl`` hung the
run, and one very long line drove memory to 1.6 GiB. Here every line is read with a size bound
(``MAX_LINE_BYTES``), its nesting measured before decoding (``conformance.safejson``), and the
decoded value checked against ``schemas/transcript.schema.json`` (the published contract)
before the model is built. Any problem is a ``TranscriptFormatError`` naming the file, the line
and the problem; only regular files are opened.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from conformance import safejson

__all__ = [
    "MAX_LINE_BYTES",
    "TranscriptFormatError",
    "check_line",
    "iter_json_lines",
    "need_regular_file",
]

#: Longest line read (a WebSocket frame of 16 MiB, base64-encoded, plus its record, fits).
MAX_LINE_BYTES = 32 << 20
#: Deepest nesting of one line (a stimulus log's REST bodies nest about 12 levels).
MAX_LINE_DEPTH = safejson.MAX_JSON_DEPTH


class TranscriptFormatError(ValueError):
    """A transcript file that cannot be read: ``path``, 1-based ``line`` (0: the whole file)."""

    def __init__(self, path: Path | str, line: int, problem: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        # one line, whatever the file held: control characters in a quoted value are escaped
        problem = "".join(c if c.isprintable() else repr(c)[1:-1] for c in problem)
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem


def need_regular_file(path: Path) -> None:
    """Refuse anything but a regular file (a FIFO or a device would block or never end)."""
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a regular file"
        raise TranscriptFormatError(path, 0, what)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def iter_json_lines(path: Path, *, max_line_bytes: int | None = None) -> Iterator[tuple[int, Any]]:
    """(line number, decoded value) for every non-blank line, bounded in size and nesting."""
    if max_line_bytes is None:
        max_line_bytes = MAX_LINE_BYTES
    need_regular_file(path)
    with path.open("rb") as fh:
        number = 0
        while True:
            raw = fh.readline(max_line_bytes + 1)
            if not raw:
                return
            number += 1
            if len(raw) > max_line_bytes:
                raise TranscriptFormatError(
                    path, number, f"line longer than {max_line_bytes} bytes"
                )
            if not raw.strip():
                continue
            yield number, decode_line(path, number, raw, max_line_bytes)


def decode_line(path: Path | str, number: int, raw: bytes, max_line_bytes: int) -> Any:
    try:
        text = safejson.check_bounds(raw, max_depth=MAX_LINE_DEPTH, max_bytes=max_line_bytes)
        return json.loads(text, parse_constant=_reject_constant)
    except safejson.JSONBoundsError as exc:
        raise TranscriptFormatError(path, number, f"not readable safely: {exc}") from None
    except UnicodeDecodeError:
        raise TranscriptFormatError(path, number, "not UTF-8") from None
    except ValueError as exc:
        raise TranscriptFormatError(path, number, f"not JSON: {str(exc)[:120]}") from None


@cache
def _validators() -> tuple[Any, Any]:
    """(meta validator, record validator) from the published transcript schema."""
    import jsonschema_rs

    from conformance.payloads.loader import schema_dir

    schema = json.loads((schema_dir() / "transcript.schema.json").read_text(encoding="utf-8"))
    defs = schema["$defs"]
    return (
        jsonschema_rs.validator_for({"$ref": "#/$defs/meta", "$defs": defs}),
        jsonschema_rs.validator_for({"$ref": "#/$defs/record", "$defs": defs}),
    )


def check_line(path: Path | str, number: int, obj: Any) -> bool:
    """Validate one decoded line; True if it is a meta record. Raises TranscriptFormatError."""
    if not isinstance(obj, dict):
        raise TranscriptFormatError(
            path, number, f"expected a JSON object; observed {type(obj).__name__}"
        )
    is_meta = obj.get("kind") == "meta"
    meta_validator, record_validator = _validators()
    validator = meta_validator if is_meta else record_validator
    error = next(iter(validator.iter_errors(obj)), None)
    if error is not None:
        pointer = "/".join(str(p) for p in error.instance_path) or "(the record)"
        raise TranscriptFormatError(path, number, f"{pointer}: {str(error.message)[:200]}")
    t = obj.get("t")
    if isinstance(t, float) and not math.isfinite(t):
        raise TranscriptFormatError(path, number, "t: not a finite number")
    return is_meta
