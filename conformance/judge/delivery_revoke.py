"""``delivery.token-revoke.ends-stream``: the server ends a revoked token's stream, after the
revocation and within ``REVOKE_END_S`` x ``--timeout-multiplier`` of it (``judge.tolerances``).

The session puts a ``token.revoke`` stimulus record on the revocable connection's own clock just
before it asks for the revocation, so "after" and "within" are measured on one clock. An end
before that record is not the revocation's doing; an end long after it leaves a revoked client
reading a live timeline for that long.
"""

from __future__ import annotations

from typing import Any

from conformance.transcript.model import Transcript
from conformance.verdicts import Verdict

SERVER_ENDS = ("eof", "reset", "incomplete")


def revocation_end(t: Transcript, window: float) -> tuple[Verdict | None, str, Any]:
    """One observation for the revocable connection ``t`` (None: violated)."""
    end = t.end
    how = end.fields.get("how") if end is not None else None
    revoked_t = next(
        (r.t for r in t.of_kind("stimulus") if r.fields.get("action") == "token.revoke"), None
    )
    if how not in SERVER_ENDS or end is None:
        return None, f"stream still open after the token was revoked (end: {how})", None
    if revoked_t is None:
        return Verdict.PASS, f"stream ended by the server ({how}) after revocation", None
    if end.t < revoked_t:
        return (
            None,
            f"expected the stream ended after the revocation (t={revoked_t:.2f} s); "
            f"observed it ended at t={end.t:.2f} s, before it ({how})",
            None,
        )
    if end.t - revoked_t > window:
        return (
            None,
            f"expected the stream ended within {window:g} s of the revocation "
            f"(t={revoked_t:.2f} s); observed it ended {end.t - revoked_t:.2f} s after ({how})",
            None,
        )
    return (
        Verdict.PASS,
        f"stream ended by the server ({how}) {end.t - revoked_t:.2f} s after the revocation "
        f"(window {window:g} s)",
        None,
    )


__all__ = ["revocation_end"]
