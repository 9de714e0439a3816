"""Cause streaming events through the target's own REST API, as two ordinary users would.

Why through REST: it is the only stimulus that works on any Mastodon-compatible target without
access to its internals, and it exercises the whole path (web side -> fan-out -> streaming).
Everything this driver creates or changes is recorded in an undo log and reverted by
``cleanup()`` in reverse order, so a run leaves the accounts as it found them, also after a
failure or Ctrl-C. Tokens live only in request headers; no message or exception carries them.

The reference server's ``/_reference/*`` extras (remote statuses, announcements, minted tokens)
are used only when ``reference_extras`` is True; on other targets those scenarios are
unsupported and their cases not_exercised.

Modules: ``driver`` (setup, gating, dispatch), ``scenarios`` (one handler per scenario),
``calls`` (HTTP with 429 retries and the call log), ``undo`` (the cleanup ledger).
"""

from __future__ import annotations

from conformance.stimulus.rest.driver import REMOTE_ACCT, RestDriver

__all__ = ["REMOTE_ACCT", "RestDriver"]
