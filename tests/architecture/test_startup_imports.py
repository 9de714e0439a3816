"""What a start of the command imports: nothing it never uses (``conformance/__init__.py``)."""

from __future__ import annotations

import subprocess
import sys


def test_httpx_command_line_client_is_not_imported() -> None:
    """httpx's own CLI (click, pygments' lexers, rich) stays out of the suite's processes;
    ``httpx.main`` is httpx's "not installed" stand-in."""
    code = (
        "import sys, conformance.tls, httpx\n"
        "print(httpx.main.__module__, "
        "sorted(m for m in ('click', 'pygments.lexers', 'rich') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "httpx []"
