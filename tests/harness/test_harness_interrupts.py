"""A second Ctrl-C is quiet: cleanup still finishes, no KeyboardInterrupt traceback.

Before, a second Ctrl-C during cleanup (or while pytest formatted the first one) printed a
traceback and could leave the run's objects on the target.
"""

from __future__ import annotations

import io
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pytest
from gate_proxy import ProxyPair, proxy_pair, wait_until
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


class _Lines:
    """Reads a child's pipe in a thread, so the test can wait for a line while it runs."""

    def __init__(self, pipe: IO[str]) -> None:
        self._parts: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[str]) -> None:
        for line in pipe:
            self._parts.append(line)

    def text(self, *, finished: bool = False) -> str:
        if finished:
            self._thread.join(scaled(30))
        return "".join(self._parts)


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None, url
    return parts.hostname, parts.port


@contextmanager
def _run_through(
    ref: dict[str, Any], report: Path, proxies: ProxyPair
) -> Iterator[tuple[subprocess.Popen[str], _Lines, _Lines]]:
    """``run`` against the served reference, its REST and streaming through ``proxies``; on
    exit the REST gate is released and the run waited for (killed only past its deadline)."""
    via = {**ref, "url": f"http://127.0.0.1:{proxies.rest.port}"}
    proc = subprocess.Popen(
        _run_args(via, report, "--streaming-url", f"ws://127.0.0.1:{proxies.stream.port}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        yield proc, _Lines(proc.stdout), _Lines(proc.stderr)
    finally:
        proxies.call(proxies.rest.release)
        try:
            proc.wait(scaled(60))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _proxies(ref: dict[str, Any]) -> Any:
    return proxy_pair(_address(ref["url"]), _address(ref["streaming_url"]))


def _quiet_and_clean(
    ref: dict[str, Any],
    before: dict[str, Any],
    proc: Any,
    out: _Lines,
    err: _Lines,
    report: Path,
) -> str:
    stdout, stderr = out.text(finished=True), err.text(finished=True)
    assert proc.returncode not in (0, EXIT_FORCED), stdout[-3000:]
    assert "Traceback" not in stdout + stderr, (stdout + stderr)[-3000:]
    assert _state(ref) == before  # cleanup removed everything the run made
    _no_tokens(ref, stdout, stderr, report=report)
    return stderr


def test_second_ctrl_c_during_the_session_is_quiet_and_cleans_up(
    served: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    """Every step waits for a condition, never for a time: the run's REST and streaming
    connections go through loopback proxies (``tests/support/gate_proxy.py``). The run is held
    at its first stimulus request once its streams are open; the first Ctrl-C goes in as it is
    let go; when all its streams closed (the interrupt was handled) the cleanup's next REST
    request is held (cleanup is certainly running), and only then the second Ctrl-C is sent;
    the request is released once that was answered.

    (Before: a bare 0.2 s between the two signals. Under load they could reach the run before
    Python handled the first (two SIGINTs, one KeyboardInterrupt, no "interrupted again"), or
    after its cleanup had ended; and the first one, sent when the run's list appeared, could
    land inside stimulus setup, whose objects nobody cleaned up.)"""
    before = _state(served)
    report = tmp_path / "report"
    with _proxies(served) as proxies:
        proxies.hold_rest_once_streams_open(5)
        with _run_through(served, report, proxies) as (proc, out, err):

            def ended() -> bool:
                return proc.poll() is not None

            # under way and held there: streams open, the next stimulus request waits
            wait_until(
                lambda: ended() or proxies.rest.held_request.is_set(),
                scaled(90),
                "the run's streams and its first stimulus request",
            )
            assert not ended(), f"the run ended early (exit {proc.returncode}): {err.text()}"
            proxies.hold_rest_once_streams_closed()
            proxies.rest.held_request.clear()
            proxies.call(proxies.rest.release)
            proc.send_signal(signal.SIGINT)
            # handled: every stream closed, and cleanup's next REST request is held
            wait_until(
                lambda: ended() or proxies.rest.held_request.is_set(),
                scaled(60),
                "a cleanup request after the first Ctrl-C",
            )
            assert not ended(), f"the run ended before its cleanup (exit {proc.returncode})"
            proc.send_signal(signal.SIGINT)
            wait_until(
                lambda: ended() or "interrupted again" in err.text(),
                scaled(30),
                "the answer to the second Ctrl-C",
            )
    stderr = _quiet_and_clean(served, before, proc, out, err, report)
    assert "interrupted again" in stderr


def test_ctrl_c_during_stimulus_setup_still_cleans_up(
    served: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    """Ctrl-C while the REST stimulus sets up (after its follow and its list were made): the
    session never got the driver, so setup's own handler must undo them. The request after
    the list is held until the signal was sent, so it lands inside setup on any machine; no
    stream is ever opened (the interrupt stopped the run before that)."""
    before = _state(served)
    report = tmp_path / "report"
    with _proxies(served) as proxies:
        proxies.rest.hold_at(rb"GET /api/v1/lists/[^/ ]+/accounts ")
        with _run_through(served, report, proxies) as (proc, out, err):
            wait_until(
                lambda: proc.poll() is not None or proxies.rest.held_request.is_set(),
                scaled(90),
                "the stimulus setup's request after creating its list",
            )
            assert proc.poll() is None, f"the run ended early: {err.text()}"
            proc.send_signal(signal.SIGINT)
        assert proxies.stream.streams_total == 0
    _quiet_and_clean(served, before, proc, out, err, report)
