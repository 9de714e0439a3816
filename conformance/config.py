"""Settings for a live run: one option table serves argparse, pytest and the environment.

A CI job keeps its tokens in secrets, so every option can also come from an environment
variable ``MSC_<OPTION>`` (``--second-token`` -> ``MSC_SECOND_TOKEN``) and never has to appear on
a command line. Precedence is the same everywhere: command-line flag, then environment, then the
default. Keeping the table here (and not in the CLI or the plugin) is what guarantees that
``mastodon-streaming-conformance run --x`` and ``pytest conformance/cases --x`` mean the same.

Use: ``add_argparse_options(parser)`` / ``add_pytest_options(group)`` to declare the flags, then
``resolve_settings(cli_values, environ)`` with ``{field: value-or-None}`` from either parser.
A bad value raises ``SettingsError``, which both front ends turn into a usage error.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from conformance import config_values as values
from conformance.errors import ConfigError
from conformance.payloads.versions import parse_api_version
from conformance.settings import Settings

__all__ = [
    "OPTIONS",
    "Option",
    "Settings",
    "SettingsError",
    "add_argparse_options",
    "add_pytest_options",
    "cli_values_from_pytest",
    "describe_settings",
    "resolve_settings",
    "settings_as_dict",
    "settings_to_args",
    "with_embedded",
]

ENV_PREFIX = "MSC_"


class SettingsError(ConfigError):
    """An option value that cannot be used; the front ends report it as a usage error (exit 2)."""


def _split_words(text: str) -> list[str]:
    """An environment value of a repeatable option: comma- or whitespace-separated."""
    return [word for word in re.split(r"[,\s]+", text) if word]


@dataclass(frozen=True)
class Option:
    """One setting: its flag, environment variable, parser and help.

    ``switch`` options are flags without a value on the command line (``--long``); in the
    environment they take a boolean word. ``invert`` stores the negation (``--insecure`` sets
    ``verify_tls`` False). ``multiple`` options repeat on the command line (``--exclude A
    --exclude B``) and are comma- or space-separated in the environment; the value is a tuple.
    """

    field: str
    flag: str
    help: str
    parse: Callable[[str], Any] = values.parse_text
    switch: bool = False
    invert: bool = False
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    secret: bool = False
    multiple: bool = False

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.flag.removeprefix("--").upper().replace("-", "_")

    @property
    def default(self) -> Any:
        return _DEFAULTS[self.field]

    def convert(self, text: str) -> Any:
        """Parse a command-line or environment string into the Settings value."""
        if self.switch:
            value = values.parse_bool(text)
            return (not value) if self.invert else value
        if self.multiple:
            return tuple(self.parse(word) for word in _split_words(text))
        if self.choices is not None:
            lowered = text.strip().lower()
            if lowered not in self.choices:
                raise ValueError(f"expected one of {', '.join(self.choices)}, got {text!r}")
            return lowered
        return self.parse(text)

    def help_text(self) -> str:
        """The help line: the text, the default once (a help that names its own default
        keeps it), the environment variable. Choices show in the metavar."""
        if self.switch or "(default:" in self.help:
            return f"{self.help} [env {self.env}]"
        default = self.default
        shown = "none" if default in (None, ()) else default
        return f"{self.help} (default: {shown}) [env {self.env}]"

    @property
    def shown_metavar(self) -> str:
        if self.metavar:
            return self.metavar
        if self.choices:
            return "{" + ",".join(self.choices) + "}"
        return self.field.upper()


_DEFAULTS = {f.name: f.default for f in fields(Settings)}

OPTIONS: tuple[Option, ...] = (
    Option(
        "target",
        "--target",
        "base URL of the Mastodon server under test; "
        "without it the embedded reference server is started",
        values.parse_http_url,
        metavar="URL",
    ),
    Option(
        "streaming_url",
        "--streaming-url",
        "streaming base URL (skips discovery through /api/v2/instance)",
        values.parse_streaming_url,
        metavar="URL",
    ),
    Option(
        "token",
        "--token",
        "access token of the first test account (read write follow)",
        metavar="TOKEN",
        secret=True,
    ),
    Option(
        "second_token",
        "--second-token",
        "access token of a second account, used to cause notifications and mentions",
        metavar="TOKEN",
        secret=True,
    ),
    Option(
        "report_dir",
        "--report-dir",
        "write the reports exactly here (default: reports/<target-host>-<UTC timestamp>/)",
        values.parse_path,
        metavar="DIR",
    ),
    Option("stimulus", "--stimulus", "how events are caused", choices=("rest", "redis", "none")),
    Option("read_only", "--read-only", "never write to the target: observe only", switch=True),
    Option(
        "observe_seconds",
        "--observe-seconds",
        "how long passive streams are observed",
        values.parse_non_negative,
        metavar="S",
    ),
    Option(
        "allow_public_posts",
        "--allow-public-posts",
        "allow public posts on a public host (by default only loopback/private targets get them)",
        switch=True,
    ),
    Option(
        "heartbeat_timeout_s",
        "--heartbeat-timeout",
        "longest wait for an SSE heartbeat",
        values.parse_positive,
        metavar="S",
    ),
    Option("long", "--long", "also run the slow cases (WS ping/pong timeouts ...)", switch=True),
    Option("strict", "--strict", "treat SHOULD-level warnings as failures", switch=True),
    Option(
        "redis_url",
        "--redis-url",
        "Redis of the target (for --stimulus redis)",
        values.parse_redis_url,
        metavar="URL",
        secret=True,
    ),
    Option(
        "database_url",
        "--database-url",
        "Mastodon-schema PostgreSQL of a bare streaming server: the suite seeds its own "
        "accounts, tokens, lists, mutes, blocks and filters there and removes them after "
        "(with --stimulus redis)",
        values.parse_database_url,
        metavar="URL",
        secret=True,
    ),
    Option(
        "account_id",
        "--account-id",
        "id of the first account (default: verify_credentials)",
        metavar="ID",
    ),
    Option("second_account_id", "--second-account-id", "id of the second account", metavar="ID"),
    Option(
        "list_id",
        "--list-id",
        "a list owned by the first account (default: create one)",
        metavar="ID",
    ),
    Option(
        "timeout_multiplier",
        "--timeout-multiplier",
        "scale every deadline (slow servers, CI)",
        values.parse_positive,
        metavar="X",
    ),
    Option("verify_tls", "--insecure", "do not verify TLS certificates", switch=True, invert=True),
    Option(
        "embedded_heartbeat_s",
        "--embedded-heartbeat",
        "SSE heartbeat interval of the embedded reference server",
        values.parse_positive,
        metavar="S",
    ),
    Option(
        "embedded_ping_interval_s",
        "--embedded-ping-interval",
        "WebSocket ping interval of the embedded reference server",
        values.parse_positive,
        metavar="S",
    ),
    Option(
        "ping_timeout_s",
        "--ping-timeout",
        "--long: longest wait for a server WebSocket ping, and for the cut of a socket that "
        "withholds pongs (Mastodon pings every 30 s; 35 s leaves grace)",
        values.parse_positive,
        metavar="S",
    ),
    Option(
        "max_setup_attempts",
        "--max-setup-attempts",
        "attempts to open a connection whose setup meets 429, 502/503/504 or a connect "
        "failure (never retried once connected)",
        values.parse_setup_attempts,
        metavar="N",
    ),
    Option(
        "max_retry_wait_s",
        "--max-retry-wait",
        "longest wait before a setup retry, scaled by --timeout-multiplier (a longer "
        "Retry-After gives up)",
        values.parse_non_negative,
        metavar="S",
    ),
    Option(
        "max_connections",
        "--max-connections",
        "connections open at once, one-shot probes included (at least 2). The default 50 "
        "holds a full run's 44 streams in one batch, so the run costs one heartbeat interval; "
        "below that the streams run in batches, about one interval each (a small server: "
        "e.g. 15 = 3 batches)",
        values.parse_max_connections,
        metavar="N",
    ),
    Option(
        "api_version",
        "--api-version",
        "the Mastodon API version the target implements (overrides the version it reports; "
        "features newer than it are not_exercised)",
        parse_api_version,
        metavar="X.Y.Z",
    ),
    Option(
        "baseline",
        "--baseline",
        "expected non-passing results of this target (JSON or TOML): they do not fail the run, "
        "but an entry that no longer happens does (exit status 3)",
        values.parse_path,
        metavar="FILE",
    ),
    Option(
        "write_baseline",
        "--write-baseline",
        "write this run's failing and warning MUST/SHOULD results as a baseline skeleton",
        values.parse_path,
        metavar="FILE",
    ),
    Option(
        "exclude",
        "--exclude",
        "do not run the cases whose id or requirement id matches this glob (* and ?; "
        "repeatable); they are listed under 'excluded' in report.json",
        values.parse_text,
        metavar="GLOB",
        multiple=True,
    ),
    Option(
        "fail_on",
        "--fail-on",
        "lowest verdict that fails the run (--strict is --fail-on warn)",
        choices=("fail", "warn"),
    ),
    Option(
        "repeat",
        "--repeat",
        "run the whole session N times; a case whose verdict differs is reported flaky, "
        "with its worst verdict",
        values.parse_repeat,
        metavar="N",
    ),
    Option("anonymous", "--anonymous", "token-less audit: no token, no stimulus", switch=True),
)

_BY_FIELD = {opt.field: opt for opt in OPTIONS}
assert set(_BY_FIELD) == set(_DEFAULTS), "every Settings field needs exactly one Option"


def _argparse_type(option: Option) -> Callable[[str], Any]:
    # A repeatable flag converts one occurrence at a time (argparse appends each).
    parse = option.parse if option.multiple else option.convert

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = option.field  # argparse names the type in "invalid <name> value"
    return convert


def _add(adder: Callable[..., Any], option: Option, dest: str) -> None:
    if option.switch:
        adder(
            option.flag,
            dest=dest,
            action="store_const",
            const=(not option.invert),
            default=None,
            help=option.help_text(),
        )
    else:
        adder(
            option.flag,
            dest=dest,
            default=None,
            action="append" if option.multiple else "store",
            type=_argparse_type(option),
            metavar=option.shown_metavar,
            help=option.help_text(),
        )


def add_argparse_options(parser: argparse.ArgumentParser | Any) -> None:
    """Declare every option on an argparse parser (or argument group); values default to None."""
    for option in OPTIONS:
        _add(parser.add_argument, option, option.field)


#: Flags pytest itself already defines with the same meaning for a suite run: pytest's own
#: ``--strict`` is read as ours instead of being declared twice (which pytest refuses).
PYTEST_OWNED = frozenset({"strict"})
PYTEST_DEST_PREFIX = "msc_"


def add_pytest_options(group: Any) -> None:
    """Declare every option on a pytest option group; dests are ``msc_<field>``."""
    for option in OPTIONS:
        if option.field not in PYTEST_OWNED:
            _add(group.addoption, option, PYTEST_DEST_PREFIX + option.field)


def cli_values_from_pytest(getoption: Callable[[str], Any]) -> dict[str, Any]:
    """``{field: value-or-None}`` from a pytest config's ``getoption``."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        if option.field in PYTEST_OWNED:
            values[option.field] = getoption(option.field) or None
        else:
            values[option.field] = getoption(PYTEST_DEST_PREFIX + option.field)
    return values


def resolve_settings(
    cli: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Combine flag values (None = not given) with ``MSC_*`` variables and the defaults.

    Flag values are already converted (the parsers' ``type``); environment strings are converted
    here. Raises SettingsError naming the variable for a bad environment value.
    """
    cli = cli or {}
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for option in OPTIONS:
        given = cli.get(option.field)
        if given is not None:
            values[option.field] = tuple(given) if option.multiple else given
            continue
        raw = environ.get(option.env)
        if raw is None or (raw == "" and not option.switch):
            continue
        try:
            values[option.field] = option.convert(raw)
        except ValueError as exc:
            raise SettingsError(f"{option.env}: {exc}") from None
    settings = Settings(**values)
    _check_combination(settings)
    return settings


def _check_combination(settings: Settings) -> None:
    if settings.stimulus == "redis" and not settings.redis_url:
        raise SettingsError("--stimulus redis needs --redis-url (or MSC_REDIS_URL)")
    # --streaming-url without --target is the bare mode (a streaming server alone, issue 13).
    if settings.database_url and settings.stimulus != "redis":
        raise SettingsError("--database-url needs --stimulus redis --redis-url URL")
    if settings.database_url and settings.target is None and settings.streaming_url is None:
        raise SettingsError("--database-url needs --streaming-url (a bare server) or --target")


def settings_to_args(cli: Mapping[str, Any]) -> list[str]:
    """Render explicitly given flag values back into command-line arguments.

    Used by ``run`` to hand its own flags to ``pytest.main`` in-process (so they never reach a
    process listing); environment values are left for the plugin to read itself.
    """
    args: list[str] = []
    for option in OPTIONS:
        value = cli.get(option.field)
        if value is None:
            continue
        if option.switch:
            args.append(option.flag)
        elif option.multiple:
            args.extend(f"{option.flag}={item}" for item in value)
        else:  # "--flag=value": a token may start with "-" and must not read as a flag
            args.append(f"{option.flag}={value}")
    return args


def settings_as_dict(settings: Settings) -> dict[str, Any]:
    """``{flag name: value}`` as the flags mean it (``insecure`` true when not verifying TLS),
    JSON-ready, secrets shown as ``<redacted>``: the report's record of how the run was set up."""
    out: dict[str, Any] = {}
    for option in OPTIONS:
        value = getattr(settings, option.field)
        if option.invert:
            value = not value
        if option.secret and value:
            value = "<redacted>"
        elif isinstance(value, str) and "@" in value:
            from conformance.redact import redact_userinfo

            value = redact_userinfo(value)
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[option.flag.removeprefix("--")] = value
    return out


def describe_settings(settings: Settings) -> list[str]:
    """``flag=value`` strings for the pytest header, secrets shown as ``<redacted>``."""
    return [
        f"{name}={'none' if value is None else value}"
        for name, value in settings_as_dict(settings).items()
    ]


def with_embedded(settings: Settings, **values: Any) -> Settings:
    """A copy of settings pointed at a started embedded server (tokens, ids from its line)."""
    return replace(settings, **values)
