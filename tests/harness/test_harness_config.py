"""Option precedence (flag > MSC_* environment > default) and usage errors, CLI and pytest alike."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import pytest

from conformance import cli
from conformance.config import (
    OPTIONS,
    Settings,
    SettingsError,
    add_argparse_options,
    describe_settings,
    resolve_settings,
    settings_as_dict,
    settings_to_args,
)


def _parse(argv: list[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    add_argparse_options(parser)
    return vars(parser.parse_args(argv))


def test_defaults_match_the_settings_dataclass() -> None:
    assert resolve_settings({}, {}) == Settings()


def test_every_option_has_its_env_variable_named_after_its_flag() -> None:
    envs = {opt.flag: opt.env for opt in OPTIONS}
    assert envs["--second-token"] == "MSC_SECOND_TOKEN"
    assert envs["--heartbeat-timeout"] == "MSC_HEARTBEAT_TIMEOUT"
    assert envs["--insecure"] == "MSC_INSECURE"
    assert len(set(envs.values())) == len(OPTIONS)


def test_env_overrides_default_and_flag_overrides_env() -> None:
    env = {"MSC_TOKEN": "from-env", "MSC_OBSERVE_SECONDS": "7", "MSC_TARGET": "https://a.example"}
    from_env = resolve_settings(_parse([]), env)
    assert (from_env.token, from_env.observe_seconds) == ("from-env", 7.0)
    assert from_env.target == "https://a.example"
    flagged = resolve_settings(_parse(["--token", "from-flag", "--observe-seconds", "3"]), env)
    assert (flagged.token, flagged.observe_seconds) == ("from-flag", 3.0)
    assert flagged.target == "https://a.example"


def test_switches_read_boolean_words_from_env_and_insecure_inverts() -> None:
    settings = resolve_settings(
        _parse([]), {"MSC_LONG": "yes", "MSC_INSECURE": "1", "MSC_READ_ONLY": "false"}
    )
    assert settings.long is True
    assert settings.verify_tls is False
    assert settings.read_only is False
    assert resolve_settings(_parse(["--insecure"]), {}).verify_tls is False
    assert resolve_settings(_parse([]), {}).verify_tls is True


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"MSC_OBSERVE_SECONDS": "soon"}, "MSC_OBSERVE_SECONDS"),
        ({"MSC_TIMEOUT_MULTIPLIER": "0"}, "MSC_TIMEOUT_MULTIPLIER"),
        ({"MSC_STIMULUS": "carrier-pigeon"}, "rest, redis, none"),
        ({"MSC_TARGET": "ftp://x.example"}, "MSC_TARGET"),
        ({"MSC_LONG": "maybe"}, "MSC_LONG"),
        ({"MSC_STIMULUS": "redis"}, "--redis-url"),
    ],
)
def test_bad_env_values_raise_settings_error(env: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError, match=needle.replace(".", r"\.")):
        resolve_settings({}, env)


def test_round_trip_through_settings_to_args_gives_the_same_settings() -> None:
    argv = [
        "--target",
        "https://m.example/",
        "--token",
        "t0k",
        "--insecure",
        "--long",
        "--heartbeat-timeout",
        "2.5",
        "--report-dir",
        "out",
        "--stimulus",
        "none",
    ]
    values = _parse(argv)
    assert _parse(settings_to_args(values)) == values
    settings = resolve_settings(values, {})
    assert settings.target == "https://m.example"
    assert settings.report_dir == Path("out")
    assert settings.heartbeat_timeout_s == 2.5


def test_describe_settings_never_shows_a_token() -> None:
    settings = Settings(
        token="secret-one", second_token="secret-two", redis_url="redis://:pw-secret@h:6379/0"
    )
    text = "\n".join(describe_settings(settings))
    assert "secret" not in text
    assert "token=<redacted>" in text
    assert "insecure=False" in text
    shown = settings_as_dict(replace(settings, verify_tls=False, report_dir=Path("r")))
    assert (shown["insecure"], shown["report-dir"], shown["token"]) == (True, "r", "<redacted>")
    assert settings.secrets() == ["secret-one", "secret-two", "pw-secret"]


def test_cli_bad_flag_value_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--observe-seconds", "abc"]) == 2
    assert "--observe-seconds: expected a number" in capsys.readouterr().err


def test_cli_bad_env_value_is_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MSC_TIMEOUT_MULTIPLIER", "-1")
    assert cli.main(["run"]) == 2
    assert "MSC_TIMEOUT_MULTIPLIER" in capsys.readouterr().err


def test_cli_without_command_or_with_unknown_flag_is_usage_error() -> None:
    assert cli.main([]) == 2
    assert cli.main(["list", "--bogus"]) == 2


def test_cli_run_passes_flags_and_extra_args_to_pytest_in_process() -> None:
    values = {"token": "tok", "long": True, "target": None}
    args = cli.run_pytest_args(values, "hashtag", ["-x"])
    assert args[0] == str(cli.CASES_DIR)
    assert args[1:3] == ["-p", "conformance.plugin"]
    assert "--token=tok" in args
    assert "--long" in args
    assert "--target" not in args
    assert args[-3:] == ["-k", "hashtag", "-x"]


@pytest.mark.parametrize(
    ("pytest_code", "expected"), [(0, 0), (1, 1), (2, 2), (3, 2), (4, 2), (5, 2)]
)
def test_pytest_statuses_map_to_cli_statuses(pytest_code: int, expected: int) -> None:
    assert cli.map_pytest_status(pytest_code) == expected
