"""A second Ctrl-C is quiet: cleanup still finishes, no KeyboardInterrupt traceback.

Before, a second Ctrl-C during cleanup (or while pytest formatted the first one) printed a
traceback and could leave the run's objects on the target.
"""

from __future__ import annotations

import io
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from test_harness_safety import _env, _get, _no_tokens, _run_args, _state, served  # noqa: F401
from timing import scaled

from conformance.interrupts import EXIT_FORCED, quiet_repeated_interrupts


def test_second_and_third_interrupts_in_process() -> None:
    out = io.StringIO()
    exits: list[int] = []
    with quiet_repeated_interrupts(out, force_exit=exits.append):
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)  # quiet: no exception
        assert "finishing cleanup" in out.getvalue() and exits == []
        signal.raise_signal(signal.SIGINT)
        assert exits == [EXIT_FORCED] and "cleanup skipped" in out.getvalue()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_second_ctrl_c_during_the_session_is_quiet_and_cleans_up(
    served: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    before = _state(served)
    report = tmp_path / "report"
    proc = subprocess.Popen(
        _run_args(served, report),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        deadline = time.monotonic() + scaled(90)
        a = served["accounts"][0]
        under_way = False
        while time.monotonic() < deadline and proc.poll() is None:
            # the run's own list lives from stimulus setup to cleanup: the session is under way
            lists = sorted(str(item["id"]) for item in _get(served, "/api/v1/lists", a["token"]))
            if lists != before["lists"]:
                under_way = True
                break
            time.sleep(0.05)  # polling another process's progress: no event to wait on
        if not under_way:
            out, err = proc.communicate(timeout=scaled(30))
            pytest.fail(f"the run never created its list (exit {proc.returncode}): {err[-1500:]}")
        proc.send_signal(signal.SIGINT)
        time.sleep(0.2)  # the second Ctrl-C must land while the first one's cleanup runs
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=scaled(60))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode not in (0, EXIT_FORCED)
    assert "Traceback" not in out + err, (out + err)[-3000:]
    assert "interrupted again" in err, out[-3000:]
    assert _state(served) == before
    _no_tokens(served, out, err, report=report)
