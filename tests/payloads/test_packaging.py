"""The built wheel carries the schemas, report templates and run config, and finds them from
anywhere: one lookup (``conformance/schemas`` next to the package), no setup.py.

Builds the wheel (``pip wheel --no-deps``), unpacks it with ``pip install --no-deps --target``
and runs it from a scratch directory with this venv's dependencies, so nothing of the checkout
can be picked up by accident (the editable finder comes after ``PYTHONPATH`` on ``sys.path``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from timing import scaled

from conformance.payloads.loader import NOT_PAYLOAD_SCHEMAS

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload]
        args, check=True, capture_output=True, text=True, timeout=scaled(300), **kwargs
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)])
    (built,) = out.glob("*.whl")
    return built


def test_wheel_ships_schemas_templates_and_run_config(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    schemas = {Path(n).name for n in names if n.startswith("conformance/schemas/")}
    assert schemas == {p.name for p in (REPO / "schemas").iterdir()}
    assert "status.schema.json" in schemas
    assert {"report.html.j2", "report.css", "report.js"} <= {
        Path(n).name for n in names if n.startswith("conformance/reports/templates/")
    }
    assert "conformance/cases/suite.ini" in names
    assert not any("__pycache__" in n or n.startswith(("tests/", "schemas/")) for n in names)


def test_installed_wheel_lists_and_validates_from_elsewhere(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    _run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), wheel]
    )
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    listing = _run(
        [sys.executable, "-m", "conformance", "list", "--format", "json"], cwd=elsewhere, env=env
    )
    assert len(json.loads(listing.stdout)) > 100
    probe = _run(
        [
            sys.executable,
            "-c",
            "import conformance.payloads as p\n"
            "v = p.PayloadValidator.default()\n"
            "bad = v.check_entity('Field', {'name': 'a', 'value': 'b', 'verified_at': 'x'})\n"
            "print(p.schema_dir(), len(v.schema_names), bad[0].expected)",
        ],
        cwd=elsewhere,
        env=env,
    )
    where, count, *expected = probe.stdout.split()
    assert Path(where) == target / "conformance" / "schemas"
    payload_schemas = [
        path
        for path in (REPO / "schemas").glob("*.schema.json")
        if path.name not in NOT_PAYLOAD_SCHEMAS  # transcript, load and run-report schemas
    ]
    assert int(count) == len(payload_schemas)
    assert " ".join(expected) == "format date-time"
