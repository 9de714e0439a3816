"""``--exclude`` keeps a connection closed only when every case it serves is excluded."""

from __future__ import annotations

from conformance.config import Settings
from conformance.session.plan import connections, plan_cases
from conformance.session.runner import fully_excluded


def _keys(patterns: list[str]) -> set[str]:
    settings = Settings()
    return fully_excluded(connections(settings), plan_cases(settings), patterns)


def test_no_patterns_keep_everything_open() -> None:
    assert _keys([]) == set()


def test_excluding_every_case_of_a_connection_closes_it() -> None:
    assert "sse-direct" in _keys(["*[sse-direct*"])


def test_excluding_some_cases_of_a_connection_keeps_it_open() -> None:
    """One requirement excluded on every stream: each connection still serves others."""
    assert _keys(["sse.framing.utf8"]) == set()


def test_a_generous_match_never_closes_a_neighbour() -> None:
    """``sse-user`` is a prefix of ``sse-user-revocable``: excluding the latter's cases must not
    close ``sse-user``, whose own cases still run."""
    closed = _keys(["*[sse-user-revocable*"])
    assert "sse-user" not in closed


def test_the_revocable_streams_close_with_their_revocation_cases() -> None:
    """The revocable streams' only cases are named for ``*-user``: excluding them closes the
    revocable streams and neither user stream, which still serves every other user case."""
    closed = _keys(["delivery.token-revoke.*"])
    assert {"sse-user-revocable", "ws-user-revocable"} <= closed
    assert "sse-user" not in closed and "ws-user" not in closed


def test_the_revocable_streams_stay_open_while_their_cases_run() -> None:
    closed = _keys(["*[sse-user]"])
    assert "sse-user-revocable" in closed and "ws-user-revocable" not in closed
