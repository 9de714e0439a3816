"""The guard: every MUST and SHOULD requirement, delivery and discovery included, has a test that
makes it fail (MUST) or warn (SHOULD): a mutated transcript (``test_judge_mutations.MUTANTS``,
``test_ws_protocol_mutations.MUTANTS``),
a live fault (``tests/faults/test_faults_live.FAULT_TABLE``) or a named test below."""

from __future__ import annotations

import ast
from pathlib import Path

from test_judge_mutations import MUTANTS
from test_ws_protocol_mutations import MUTANTS as WS_PROTOCOL_MUTANTS

from conformance.requirements import REGISTRY
from conformance.verdicts import Level

TESTS = Path(__file__).resolve().parents[1]

#: requirement -> "file::test" that makes it fail or warn, for ids no mutant or fault breaks.
NAMED_PROOFS: dict[str, str] = {
    "delivery.notifications-merged.arrives": (
        "session/test_session_delivery_failures.py::"
        "test_notifications_merged_that_never_arrives_fails"
    ),
    "delivery.payload.matches-rest": (
        "session/test_session_delivery_failures.py::test_payload_that_differs_from_rest_warns"
    ),
    "discovery.streaming-url.form": "session/test_session_discovery_judge.py::test_form",
    "discovery.streaming-url.agree": "session/test_session_discovery_judge.py::test_agreement",
    "http.concurrency.capacity": (
        "session/test_session_capacity.py::test_overload_becomes_one_finding_and_not_exercised_cases"
    ),
}


def _fault_table() -> dict[str, tuple[str, ...]]:
    """FAULT_TABLE read from the source (importing the live test module would start nothing,
    but keeps this guard free of its fixtures)."""
    tree = ast.parse((TESTS / "faults" / "test_faults_live.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "FAULT_TABLE":
            return ast.literal_eval(node.value)  # type: ignore[arg-type]
    raise AssertionError("FAULT_TABLE not found")


def _defines(path: str, name: str) -> bool:
    tree = ast.parse((TESTS / path).read_text())
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
        for node in tree.body
    )


def test_every_must_and_should_requirement_can_be_broken() -> None:
    live = {r for reqs in _fault_table().values() for r in reqs}
    covered = set(MUTANTS) | set(WS_PROTOCOL_MUTANTS) | live | set(NAMED_PROOFS)
    binding = {r.id for r in REGISTRY.values() if r.level in (Level.MUST, Level.SHOULD)}
    assert sorted(binding - covered) == []


def test_named_proofs_exist() -> None:
    for requirement, proof in NAMED_PROOFS.items():
        assert requirement in REGISTRY, requirement
        path, name = proof.split("::")
        assert _defines(path, name), proof
