"""The terminal surface: ``list | head`` survives the closed pipe, ``serve --help`` documents
every option, ``serve --list-faults`` names every fault, knob and load fault, ``run --help``
shows each option's choices and default once."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from timing import scaled

from conformance.cli import build_parser
from conformance.reference.faults import FAULTS, KNOBS, LOAD_FAULTS

CLI = [sys.executable, "-c", "import sys; from conformance.cli import main; sys.exit(main())"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]  # type: ignore[no-any-return]


def test_list_survives_a_closed_pipe() -> None:
    proc = subprocess.Popen(
        [*CLI, "list", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=scaled(60)) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_serve_help_documents_every_option() -> None:
    serve = _subparser("serve")
    options = [a for a in serve._actions if a.option_strings and a.dest != "help"]
    assert {"--fault", "--list-faults", "--split-ports", "--redis-url"} <= {
        s for a in options for s in a.option_strings
    }
    for action in options:
        assert action.help and action.help != argparse.SUPPRESS, action.option_strings


def test_serve_list_faults_names_every_fault_and_knob() -> None:
    done = subprocess.run(
        [*CLI, "serve", "--list-faults"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=scaled(60),
    )
    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ")}
    assert listed == set(FAULTS) | set(KNOBS) | set(LOAD_FAULTS)
    assert all(len(line.split(None, 1)) == 2 for line in done.stdout.splitlines()[1:])


def test_run_help_shows_choices_and_each_default_once() -> None:
    text = _subparser("run").format_help()
    assert "--stimulus {rest,redis,none}" in text and "--fail-on {fail,warn}" in text
    entries = re.split(r"\n  (?=-)", text.split("options:", 1)[1])
    for entry in entries:
        assert entry.count("(default:") <= 1, entry


def test_a_token_starting_with_a_dash_is_a_value() -> None:
    """URL-safe base64 tokens start with ``-`` one time in 64: ``--token -x...`` must not read
    as an option ("expected one argument")."""
    from conformance.cli import build_parser, joined_secret_values

    argv = ["run", "--token", "-AbC_123", "--second-token", "--dash-too", "--long"]
    args, unknown = build_parser().parse_known_args(joined_secret_values(argv))
    assert (args.token, args.second_token, unknown) == ("-AbC_123", "--dash-too", [])
    assert args.long is True
    # a value given with "=" or a flag that is not a secret is left as it is
    assert joined_secret_values(["run", "--token=-x", "--target", "u"]) == [
        "run",
        "--token=-x",
        "--target",
        "u",
    ]
