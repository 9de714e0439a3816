"""Received frames of a fragmented message, held until its last fragment.

Why: redaction is per frame when frames are recorded, so a token a server splits across two
continuation frames would reach the transcript as two harmless-looking halves. The frames of a
fragmented message (and any control frame between them, to keep their order) wait here for the
message's FIN; then every secret spanning a boundary is masked in place (``Redactor.mask_across``:
same length, so each frame stays true evidence of its size). Bounded by the recorder's message
limits: a message that never ends is released when a limit stops the recording.
"""

from __future__ import annotations

from typing import Any

from conformance.redact import Redactor

__all__ = ["FragmentHold"]

_DATA = frozenset({"text", "binary", "continuation"})
Held = tuple[float, dict[str, Any]]


class FragmentHold:
    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._held: list[tuple[float, dict[str, Any], bool]] = []

    def admit(self, t: float, fields: dict[str, Any], name: str, fin: bool) -> list[Held]:
        """The frames to record now (in order): this one alone when no message is open."""
        is_data = name in _DATA
        if not self._held and not (is_data and not fin):
            return [(t, fields)]
        self._held.append((t, fields, is_data))
        return self.release() if is_data and fin else []

    def release(self) -> list[Held]:
        """Everything held, secrets across fragment boundaries masked."""
        held, self._held = self._held, []
        data = [fields for _, fields, is_data in held if is_data]
        masked = self._redactor.mask_across([fields["data"] for fields in data])
        for fields, value in zip(data, masked, strict=True):
            fields["data"] = value
        return [(t, fields) for t, fields, _ in held]
