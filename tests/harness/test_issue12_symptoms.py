"""Issue 12, "Why": one test per symptom, each reproducing it and proving it is gone.

Symptoms another helper covered are referenced, not repeated:

- ``list | head`` BrokenPipe, ``serve --help`` hiding ``--fault``, ``run --help`` defaults:
  ``tests/harness/test_harness_cli_terminal.py`` (branch ``hardening``).
- second Ctrl-C during cleanup: ``tests/harness/test_harness_interrupts.py`` (``hardening``).
- hostile servers (hangs, memory): ``tests/hostile/`` and ``bench/bench_hostile.py`` (``hostile``).
- cleanup leftovers, two runs in a row: ``tests/harness/test_harness_cleanup.py`` (``hardening``).
- ``replay`` of malformed transcripts: the replay fuzz tests (``hardening``).
- an unreachable target: ``test_harness_plugin.py::test_unreachable_target_exits_2_with_a_message``.

The CLI tests run the real command against the reference server; the discovery + preflight they
exercise stops before any session, so each takes seconds.
"""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from reference_proc import reference_server
from session_standin import BLANK, HANDSHAKE, TOKEN, StandIn, report, run_suite, verdicts
from suite_command import suite_command
from timing import scaled, time_scale

from conformance.config import Settings
from conformance.discovery import TargetInfo
from conformance.plugin import CASES_DIR
from conformance.preflight import PreflightError, preflight
from conformance.reports.summary import summary_lines
from conformance.verdicts import Level, Result, Verdict

pytest_plugins = ["pytester"]


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*suite_command(), "run", "--report-dir", str(tmp_path / "out"), *args, "--", "-q"],
        capture_output=True,
        text=True,
        timeout=scaled(120),
        cwd=tmp_path,
        check=False,
    )


@pytest.fixture(scope="module")
def server() -> Any:
    with reference_server() as line:
        yield line


def _tokens(server: dict[str, Any]) -> tuple[str, str]:
    return server["accounts"][0]["token"], server["accounts"][1]["token"]


def _one_line_exit_2(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    for needle in needles:
        assert needle in out, out[-3000:]
    return out


# -- 2. never green by omission; 1. preflight --------------------------------------------------


def test_wrong_second_token_is_exit_2_naming_it(tmp_path: Path, server: dict[str, Any]) -> None:
    token, _ = _tokens(server)
    proc = _run(
        tmp_path, "--target", server["url"], "--token", token, "--second-token", "not-a-token"
    )
    _one_line_exit_2(proc, "--second-token is not accepted")
    assert not (tmp_path / "out").exists()  # nothing written


def test_unreachable_redis_is_exit_2_naming_redis_url(
    tmp_path: Path, server: dict[str, Any], unused_tcp_port: int
) -> None:
    token, second = _tokens(server)
    proc = _run(
        tmp_path,
        "--target",
        server["url"],
        "--token",
        token,
        "--second-token",
        second,
        "--stimulus",
        "redis",
        "--redis-url",
        f"redis://127.0.0.1:{unused_tcp_port}/0",
        "--account-id",
        server["accounts"][0]["id"],
        "--second-account-id",
        server["accounts"][1]["id"],
    )
    _one_line_exit_2(proc, "--redis-url", "does not answer PING")


def test_no_token_is_a_usage_error_unless_anonymous(tmp_path: Path, server: dict[str, Any]) -> None:
    proc = _run(tmp_path, "--target", server["url"])
    _one_line_exit_2(proc, "no --token", "--anonymous")


def test_wrong_token_is_exit_2_naming_token_not_server_failures(
    tmp_path: Path, server: dict[str, Any]
) -> None:
    _, second = _tokens(server)
    proc = _run(
        tmp_path, "--target", server["url"], "--token", "expired-secret", "--second-token", second
    )
    out = _one_line_exit_2(proc, "--token is not accepted")
    assert "auth.sse.token-header" not in out  # not blamed on the server


def test_same_account_twice_is_exit_2(tmp_path: Path, server: dict[str, Any]) -> None:
    token, _ = _tokens(server)
    proc = _run(tmp_path, "--target", server["url"], "--token", token, "--second-token", token)
    _one_line_exit_2(proc, "same account", "--second-token")


def test_wss_advertised_but_plain_http_explains_the_fix(server: dict[str, Any]) -> None:
    token, second = _tokens(server)
    host = httpx.URL(server["streaming_url"]).netloc.decode()
    settings = Settings(target=server["url"], token=token, second_token=second)
    target = TargetInfo(
        base_url=server["url"],
        streaming_base=f"https://{host}",  # advertised wss://, served plain
        version="4.8.0",
        instance={},
        is_reference=True,
        is_public_host=False,
        embedded=False,
    )
    with pytest.raises(PreflightError) as caught:
        asyncio.run(preflight(settings, target))
    message = str(caught.value)
    assert "WRONG_VERSION_NUMBER" in message and f"--streaming-url ws://{host}" in message
    assert "\n" not in message


def test_unwritable_report_dir_is_found_before_the_run(pytester: pytest.Pytester) -> None:
    (pytester.path / "a-file").write_text("x")
    standin = StandIn(verdicts())
    result = pytester.runpytest_inprocess(
        str(CASES_DIR),
        "-p",
        "no:cacheprovider",
        "--target",
        "http://fake.example",
        "--token",
        TOKEN,
        "--report-dir",
        "a-file/report",
        plugins=[standin],
    )
    assert result.ret == 2
    assert standin.session_runs == 0
    assert "give a writable --report-dir" in result.stdout.str()


def test_a_stimulus_that_cannot_be_set_up_is_exit_2(pytester: pytest.Pytester) -> None:
    from conformance.session.setup import StimulusSetupError

    async def refuse(settings: Any, target: Any) -> Any:
        raise StimulusSetupError("the rest stimulus could not be set up (403); fix --token")

    class Refusing(StandIn):
        @pytest.hookimpl(trylast=True)
        def pytest_configure(self, config: pytest.Config) -> None:
            super().pytest_configure(config)
            from conformance.plugin import suite_run

            suite_run(config).run_session_fn = refuse

    refusing = Refusing(verdicts())
    result = run_suite(pytester, refusing)
    assert result.ret == 2
    assert "could not be set up" in result.stdout.str()
    assert not (pytester.path / "out" / "report.json").exists()


def test_summary_names_not_exercised_and_top_reasons() -> None:
    def row(rid: str, why: str) -> Result:
        return Result(
            id=rid,
            requirement=rid.split("[")[0],
            verdict=Verdict.NOT_EXERCISED,
            level=Level.MUST,
            message=why,
        )

    rows = [row(f"x.y[{i}]", "needs --second-token") for i in range(3)]
    rows.append(row("a.b[1]", "needs --long"))
    text = "\n".join(summary_lines(rows, target="t"))
    assert "NOT EXERCISED (4), top reasons:" in text
    assert "3 x needs --second-token" in text and "1 x needs --long" in text


def test_anonymous_banner_lists_what_is_not_checked(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(
        str(CASES_DIR),
        "-p",
        "no:cacheprovider",
        "--target",
        "http://fake.example",
        "--anonymous",
        "--collect-only",
        plugins=[StandIn(verdicts())],
    )
    out = result.stdout.str()
    assert "token-less audit (--anonymous); NOT checked:" in out
    assert "authenticated streams" in out and "event delivery" in out


# -- 3. exact selection ---------------------------------------------------------------------------


def test_k_counts_agree_and_deselected_failures_do_not_fail(pytester: pytest.Pytester) -> None:
    """``-k websocket`` printed "126 passed" and exited 1 because of deselected SSE cases."""
    standin = StandIn(verdicts(blank="fail"))
    result = run_suite(pytester, standin, "-k", "ws-")
    outcomes = result.parseoutcomes()
    data = report(pytester)
    assert result.ret == 0 and data["exit_status"] == 0
    assert sum(data["summary"].values()) == outcomes.get("passed", 0) == 1
    assert {r["id"] for r in data["results"]} == {HANDSHAKE}
    assert BLANK in standin.settings.exclude  # the session prunes what -k deselected
    assert data["selection"]["selected"] == 1


def test_pytest_items_are_the_reported_cases(pytester: pytest.Pytester) -> None:
    """pytest counted 874 items while report.json had 987 results."""
    result = run_suite(pytester, StandIn(verdicts()))
    outcomes = result.parseoutcomes()
    data = report(pytester)
    items = sum(outcomes.get(k, 0) for k in ("passed", "failed", "skipped", "xfailed", "error"))
    assert items == len(data["results"]) == sum(data["summary"].values())
    assert "observed[run]" in {r["id"] for r in data["results"]}
    assert [o["id"] for o in data["observations"]] == ["events.unknown[sse-user]"]


# -- 4. terminal ----------------------------------------------------------------------------------


def test_interrupted_report_matches_the_exit_code(tmp_path: Path) -> None:
    """Ctrl-C exited 2 while report.json said ``"exit_status": 0``. (In-process: a real
    KeyboardInterrupt inside pytester would stop this outer session too; pytest itself maps an
    interrupted session to 2, and the plugin leaves that status alone.)"""
    from conformance.run import SuiteRun

    standin = StandIn(verdicts())
    run = SuiteRun(
        {"target": "http://fake.example", "token": TOKEN, "report_dir": tmp_path / "out"},
        environ={},
        plan_cases=standin.plan,
        run_session=standin.run_session,
        discover=standin.discover,
        preflight=standin.preflight,
    )
    run.target()
    finished = run.finish(interrupted=True)
    assert finished is not None and finished.status == 2 == int(pytest.ExitCode.INTERRUPTED)
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert data["interrupted"] is True and data["exit_status"] == 2


def test_duration_is_the_run_wall_time_not_the_session(pytester: pytest.Pytester) -> None:
    run_suite(pytester, StandIn(verdicts()))
    data = report(pytester)
    assert data["session_s"] == 0.5  # the stand-in session's own figure
    assert data["duration_s"] != 0.5 and data["duration_s"] > 0


def test_progress_line_is_quiet_off_a_tty_and_says_phase_counts_and_time() -> None:
    from conformance.session.progress import Progress

    class Run:
        def __init__(self) -> None:
            self.live: dict[str, Any] = {}

    quiet = Progress(Run(), stream=io.StringIO())  # type: ignore[arg-type]
    assert quiet.enabled is False

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    loud = Progress(Run(), stream=Tty())  # type: ignore[arg-type]
    loud.phase("keep-alive windows", 20.0)
    line = loud.line()
    assert "keep-alive windows" in line and "connections open" in line
    assert "messages received" in line and "s left" in line


def test_unreachable_target_has_no_traceback(tmp_path: Path, unused_tcp_port: int) -> None:
    proc = _run(tmp_path, "--target", f"http://127.0.0.1:{unused_tcp_port}", "--token", "t")
    _one_line_exit_2(proc)


# -- 7. loaded machine ----------------------------------------------------------------------------


def test_one_multiplier_scales_self_test_timings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MSC_TEST_TIME_SCALE", "3")
    assert time_scale() == 3.0 and scaled(10) == 30.0
    monkeypatch.setenv("MSC_TEST_TIME_SCALE", "zero")
    with pytest.raises(ValueError, match="MSC_TEST_TIME_SCALE"):
        time_scale()
    script = Path(__file__).resolve().parents[2] / "scripts" / "test-loaded.sh"
    text = script.read_text(encoding="utf-8")
    assert "MSC_TEST_TIME_SCALE" in text and "scripts/test.sh" in text


def test_report_json_is_valid_json_after_k(pytester: pytest.Pytester) -> None:
    run_suite(pytester, StandIn(verdicts()), "-k", "http")
    json.loads((pytester.path / "out" / "report.json").read_text(encoding="utf-8"))
