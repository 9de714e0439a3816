"""``observations.by_observed_case`` (one pass per run) groups exactly as ``connection_of``
(asked per Result) does: same folded case for every Result id, same order within a case."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from conformance.observations import OBSERVED, by_observed_case, connection_of
from conformance.verdicts import Level, Result, Verdict

_PARTS = st.sampled_from(["sse", "ws", "user", "public", "local", "media", "x", "a-b", ""])
_KEYS = st.lists(st.lists(_PARTS, min_size=1, max_size=3).map("-".join).filter(bool), max_size=8)
_IDS = st.one_of(
    st.lists(_PARTS, min_size=0, max_size=4).map(lambda p: f"req.x[{'-'.join(p)}]"),
    st.sampled_from(["req.plain", "req.x[", "req.x]", "a[b]c"]),
)


def _result(rid: str) -> Result:
    return Result(id=rid, requirement="req", verdict=Verdict.PASS, level=Level.MUST, message="")


@given(keys=_KEYS, ids=st.lists(_IDS, max_size=12))
def test_grouping_matches_connection_of(keys: list[str], ids: list[str]) -> None:
    results = [_result(rid) for rid in ids]
    expected: dict[str, list[str]] = {}
    for result in results:
        expected.setdefault(f"{OBSERVED}[{connection_of(result.id, keys)}]", []).append(result.id)
    grouped = by_observed_case(results, keys)
    assert {case: [r.id for r in rs] for case, rs in grouped.items()} == expected


def test_longest_key_wins_and_unknown_is_run() -> None:
    keys = ["sse-user", "sse-user-notification", "ws-public"]
    grouped = by_observed_case(
        [_result(i) for i in ("a[sse-user-notification-x]", "b[sse-user-y]", "c[ws-pub]", "d")],
        keys,
    )
    assert {k: [r.id for r in v] for k, v in grouped.items()} == {
        "observed[sse-user-notification]": ["a[sse-user-notification-x]"],
        "observed[sse-user]": ["b[sse-user-y]"],
        "observed[run]": ["c[ws-pub]", "d"],
    }


def test_a_connection_never_opened_says_why_instead_of_no_check_beyond_the_plan() -> None:
    """An ``observed[<key>]`` case of a connection the run never opened (``--long`` not given,
    every case excluded) must not claim its traffic was looked at: it names the reason, live
    and in replay (``fold_run`` reads ``RunContext.unjudged``)."""
    from conformance.observations import fold_run

    why = {f"{OBSERVED}[ws-long-no-pong]": "ws-long-no-pong not opened: needs --long"}
    folded, _ = fold_run([], [], ["ws-long-no-pong", "sse-user"], why)
    messages = {r.id: (r.verdict, r.message) for r in folded}
    assert messages[f"{OBSERVED}[ws-long-no-pong]"] == (
        Verdict.INFO,
        why[f"{OBSERVED}[ws-long-no-pong]"],
    )
    assert messages[f"{OBSERVED}[sse-user]"] == (
        Verdict.INFO,
        "no check beyond the plan on sse-user",
    )
