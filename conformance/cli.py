"""``mastodon-streaming-conformance``: run the suite, serve the reference server, list, replay,
load (fan-out under load: ``conformance/load/``), compare.

``run`` is pytest underneath (``pytest.main`` on the installed ``conformance/cases`` with this
package's plugin), so a run from the command line and ``pytest conformance/cases`` in a checkout
are the same cases with the same options. The flags are validated here first, so a bad value is
a usage error (exit 2) before anything starts, then handed to pytest in-process (never to a
child's command line, where a token would show in a process listing).

Exit statuses: 0 no failure, 1 at least one ``fail`` (or a ``warn`` under ``--fail-on warn`` /
``--strict``) that the ``--baseline`` does not expect, 2 usage error, unreachable target, or a
run whose only problems are ``error`` verdicts, 3 a stale baseline (an expected result that did
not happen) and nothing worse.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.baseline import BaselineError, load_baseline
from conformance.config import OPTIONS, SettingsError, add_argparse_options, resolve_settings
from conformance.config import settings_to_args as _settings_to_args

__all__ = ["console_main", "main"]

PROG = "mastodon-streaming-conformance"
CASES_DIR = Path(__file__).resolve().parent / "cases"
RUN_CONFIG = CASES_DIR / "suite.ini"
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_STALE_BASELINE = 0, 1, 2, 3
RUN_GC_THRESHOLD = 20_000  # young objects between garbage collections during a run (default 700)
# A run is ~900 pytest items whose verdicts are already judged: no third-party plugin (autoload
# would import and assertion-rewrite e.g. hypothesis, ~100 modules), and none of pytest's own
# per-phase wrappers the cases never need (~0.6 ms per item; bench/bench_startup.py).
LEAN_PYTEST = (
    f"--config-file={RUN_CONFIG}",
    "--disable-plugin-autoload",
    "--capture=no",
    *("-p", "no:logging", "-p", "no:faulthandler"),
    *("-p", "no:unraisableexception", "-p", "no:threadexception"),
    # the cases are plain functions: no unittest wrapper around each, no subtests status hook
    *("-p", "no:unittest", "-p", "no:subtests"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Conformance suite for the Mastodon streaming API."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the suite against --target, or against the embedded reference server",
        description="Run the conformance suite. Every option also reads MSC_<OPTION> from the "
        "environment (e.g. MSC_TOKEN). Arguments after -- go to pytest.",
    )
    add_argparse_options(run)
    run.add_argument(
        "-k",
        dest="keyword",
        metavar="EXPR",
        help="only cases matching this pytest -k expression (id, stream, event...)",
    )

    serve = commands.add_parser(
        "serve",
        help="run the reference server alone",
        description="Run the embedded reference server until Ctrl-C. It prints one JSON line "
        "(its URLs, accounts with their tokens, lists), then serves; point `run --target` at it. "
        "Other options are passed to the server.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    serve.add_argument(
        "--heartbeat", type=float, metavar="S", help="SSE :thump heartbeat interval (default: 15)"
    )
    serve.add_argument(
        "--ping-interval", type=float, metavar="S", help="WebSocket ping interval (default: 30)"
    )
    serve.add_argument(
        "--bus",
        choices=("memory", "redis"),
        help="where the web side publishes events (default: memory)",
    )
    serve.add_argument("--redis-url", metavar="URL", help="the Redis of --bus redis")
    serve.add_argument(
        "--split-ports",
        action="store_true",
        help="serve streaming on a second port; REST answers /api/v1/streaming with a 301",
    )
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="break one rule on purpose, or switch on a real-server behaviour (repeatable; "
        "--list-faults names them all)",
    )
    serve.add_argument(
        "--list-faults",
        action="store_true",
        help="list the fault and knob names with one line on each, then exit",
    )

    listing = commands.add_parser("list", help="list the requirements the suite enforces")
    listing.add_argument("--format", choices=("text", "json"), default="text")

    replay = commands.add_parser("replay", help="re-judge saved transcripts offline")
    replay.add_argument(
        "path",
        type=Path,
        metavar="PATH",
        help="a report directory, a transcripts .jsonl file, or a captures folder",
    )
    replay.add_argument("--report-dir", type=Path, metavar="DIR")
    replay.add_argument("--server-version", metavar="VERSION")
    replay.add_argument(
        "--fail-on",
        choices=("fail", "warn"),
        default="fail",
        help="as for run: 'warn' makes a warn fail the replay (exit 1)",
    )

    from conformance.load.command import add_load_parser  # light: no heavy imports at parse

    add_load_parser(commands)

    compare = commands.add_parser(
        "compare", help="render several runs side by side (HTML and Markdown)"
    )
    compare.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="report directories")
    compare.add_argument(
        "--output", type=Path, metavar="DIR", help="default: reports/compare-<UTC>"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args_in:
        cut = args_in.index("--")
        args_in, extra = args_in[:cut], args_in[cut + 1 :]
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(joined_secret_values(args_in))
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.command == "serve":
        return _serve(args, unknown)
    if unknown:
        print(f"{PROG}: error: unrecognized arguments: {' '.join(unknown)}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "run":
        return _run(args, extra)
    if extra:
        print(f"{PROG}: error: arguments after -- only apply to run", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "list":
        from conformance.requirements.listing import list_main

        return _survive_closed_pipe(lambda: list_main(args.format))
    if args.command == "compare":
        return _compare(args.dirs, args.output)
    if args.command == "replay":
        from conformance.replay import replay_main

        return replay_main(
            args.path,
            report_dir=args.report_dir,
            server_version=args.server_version,
            strict=args.fail_on == "warn",
        )
    if args.command == "load":
        from conformance.load.command import load_main

        return load_main(args)
    return EXIT_USAGE  # pragma: no cover - argparse restricts the command


def joined_secret_values(argv: Sequence[str]) -> list[str]:
    """``--token VALUE`` as ``--token=VALUE`` for every secret-valued option.

    Why: a Mastodon access token is URL-safe base64 and starts with ``-`` one time in 64;
    argparse then reads it as an option and fails with "expected one argument" (the reference
    server's tokens did that to a self-test). A secret's value is always the next word."""
    secret_flags = {option.flag for option in OPTIONS if option.secret and not option.switch}
    out: list[str] = []
    words = iter(argv)
    for word in words:
        if word in secret_flags:
            value = next(words, None)
            out.append(word if value is None else f"{word}={value}")
        else:
            out.append(word)
    return out


def console_main() -> None:
    """The installed command and ``python -m conformance``: ``main()``, then exit at once.

    Why: after a run the interpreter's own teardown (freeing every module, plan, transcript and
    pytest node one by one, then a final collection) took ~1 s of CPU, longer than writing the
    reports. Everything the command owns is finished when ``main`` returns (reports written,
    embedded server stopped and reaped), so flush the output and leave. ``main`` itself returns
    normally, for the self-tests that call it in-process.
    """
    code = main()
    if "logging" in sys.modules:  # what atexit would have done: flush the log handlers
        sys.modules["logging"].shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _compare(dirs: Sequence[Path], output: Path | None) -> int:
    from datetime import UTC, datetime

    from conformance.reports.compare import CompareError, write_comparison

    if output is None:
        output = Path("reports") / f"compare-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    try:
        paths = write_comparison(list(dirs), output)
    except CompareError as exc:
        print(f"{PROG} compare: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"compare: {len(dirs)} runs -> {paths['html']} and {paths['markdown']}")
    return EXIT_OK


def _survive_closed_pipe(command: Callable[[], int]) -> int:
    """Run a command that prints to stdout; a reader that stops early (``list | head``) is
    not an error: the rest of the output is dropped, no BrokenPipe traceback."""
    try:
        code = command()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null so that flush is silent.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    return code


def run_pytest_args(
    cli_values: dict[str, object], keyword: str | None, extra: Sequence[str]
) -> list[str]:
    """The pytest argument list of a ``run`` (exposed for tests: no tokens from the env here)."""
    args = [
        str(CASES_DIR),
        "-p",
        "conformance.plugin",
        *("-p", "conformance.fast_protocol"),  # ~1000 judged cases: a lean per-item protocol
        "-p",
        "no:cacheprovider",
        *LEAN_PYTEST,
        *_settings_to_args(cli_values),
    ]
    if keyword:
        args += ["-k", keyword]
    args += list(extra)
    return args


def _run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    cli_values = {
        name: getattr(args, name) for name in vars(args) if name not in {"command", "keyword"}
    }
    try:
        settings = resolve_settings(cli_values)
        if settings.baseline is not None:
            load_baseline(settings.baseline)
    except (SettingsError, BaselineError) as exc:
        print(f"{PROG} run: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    # A run is short and allocates ~1M objects that mostly live until its end (modules, pytest
    # items, transcripts, Results): the default thresholds ran ~340 collections (~0.2 s CPU)
    # that found little; 20 000 young objects between collections run ~75 (~0.1 s).
    gc.set_threshold(RUN_GC_THRESHOLD, 20, 100)
    from conformance import embedded
    from conformance.interrupts import quiet_repeated_interrupts
    from conformance.redact import redacting_output

    if settings.target is None:
        # The embedded server starts while pytest is imported and the cases are collected; the
        # session adopts it (same arguments) and waits only for what is left of its start.
        embedded.prestart(**embedded.server_options(settings))
    from conformance import tls

    tls.warm_up(settings.verify_tls)  # discovery's TLS context, built on the other core
    try:
        import pytest

        probe = _StatusProbe()
        # a second Ctrl-C lets cleanup finish, quietly; stdout and stderr are redacted as a last
        # line of defence
        with quiet_repeated_interrupts(), redacting_output(settings.secrets()):
            code = int(
                pytest.main(run_pytest_args(cli_values, args.keyword, extra), plugins=[probe])
            )
    finally:
        embedded.discard_prestarted()
    return map_pytest_status(code, reported=probe.status)


class _StatusProbe:
    """Reads the suite's own exit status: pytest's 3 is an internal error, ours a stale
    baseline, and only the plugin knows which one a 3 is."""

    status: int | None = None

    def pytest_unconfigure(self, config: Any) -> None:
        from conformance.plugin import reported_status

        self.status = reported_status(config)


def map_pytest_status(code: int, *, reported: int | None = None) -> int:
    """The plugin already set 0/1/2/3 for a run that reported; map pytest's own statuses."""
    if reported is not None and code == reported:
        return reported
    if code in (EXIT_OK, EXIT_FAIL):
        return code
    if code == 5:  # no tests collected: -k matched nothing, which is a usage problem
        print(f"{PROG}: no case selected", file=sys.stderr)
    return EXIT_USAGE


def _serve(args: argparse.Namespace, unknown: Sequence[str]) -> int:
    from conformance.embedded import reference_command, reference_env

    forwarded = ["--host", args.host, "--port", str(args.port)]
    if args.heartbeat is not None:
        forwarded += ["--heartbeat", f"{args.heartbeat:g}"]
    if args.ping_interval is not None:
        forwarded += ["--ping-interval", f"{args.ping_interval:g}"]
    if args.bus is not None:
        forwarded += ["--bus", args.bus]
    if args.redis_url is not None:
        forwarded += ["--redis-url", args.redis_url]
    if args.split_ports:
        forwarded.append("--split-ports")
    for name in args.fault:
        forwarded += ["--fault", name]
    if args.list_faults:
        forwarded.append("--list-faults")
    forwarded += list(unknown)
    command = reference_command(forwarded)
    sys.stdout.flush()
    sys.stderr.flush()
    # Replace this process: signals (Ctrl-C, SIGTERM) then reach the server directly.
    os.execve(command[0], command, reference_env())
    return EXIT_USAGE  # pragma: no cover - execve does not return
