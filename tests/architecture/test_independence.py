"""The suite and the reference server are two independent implementations of one protocol.

If either imported the other's code, a shared bug would make both agree and the suite would
pass a broken server. This test parses every module's imports (no execution) and enforces the
boundary both ways; the reference server must not read the suite's ``schemas/`` either.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "conformance"
REFERENCE = PACKAGE / "reference"


def _imports(path: Path) -> list[str]:
    """Absolute module names a file imports, with relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package_parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.append(module)
            names.extend(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append(node.args[0].value)
    return names


def _modules(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _is_within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_reference_server_exists() -> None:
    assert REFERENCE.is_dir() and _modules(REFERENCE), "conformance/reference/ is missing"


@pytest.mark.parametrize(
    "path", _modules(REFERENCE), ids=lambda p: str(p.relative_to(PACKAGE.parent))
)
def test_reference_imports_nothing_from_the_suite(path: Path) -> None:
    offending = [
        name
        for name in _imports(path)
        if _is_within(name, "conformance") and not _is_within(name, "conformance.reference")
    ]
    assert not offending, f"{path.name} imports suite code: {offending}"


@pytest.mark.parametrize(
    "path",
    [p for p in _modules(PACKAGE) if REFERENCE not in p.parents],
    ids=lambda p: str(p.relative_to(PACKAGE.parent)),
)
def test_suite_imports_nothing_from_the_reference_server(path: Path) -> None:
    offending = [name for name in _imports(path) if _is_within(name, "conformance.reference")]
    assert not offending, f"{path.name} imports the reference server: {offending}"


@pytest.mark.parametrize(
    "path", _modules(REFERENCE), ids=lambda p: str(p.relative_to(PACKAGE.parent))
)
def test_reference_does_not_read_the_suite_schemas(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert ".schema.json" not in source and "schemas/" not in source


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The import scan itself must be able to fail: feed it a module that crosses the line."""
    fake = PACKAGE / "reference" / "_probe_for_test.py"
    body = "from conformance.judge import judge_transcript\nfrom ..verdicts import Result\n"
    fake.write_text(body, encoding="utf-8")
    try:
        names = _imports(fake)
    finally:
        fake.unlink()
    assert "conformance.judge" in names and "conformance.verdicts" in names
